"""The ``chromium`` fixture: one headless Chromium for the whole test session.

A test that needs a browser must run in CI, not skip there: ``make test`` installs Chromium and its
driver, so a missing one fails the tests that use it, with the command that installs it. Only
Selenium's absence (a checkout without the ``test`` extra, never ``make test``) skips them.
"""

from __future__ import annotations

import pytest

from tests.browser.harness import BrowserMissingError, find_browser, start_chromium


@pytest.fixture(scope="session")
def chromium():
    """A ``harness.ChromiumSession``: ``chromium.open(path_or_url, screenshot=None, width=1400,
    height=1000)`` returns a ``harness.PageResult``."""
    pytest.importorskip("selenium", reason="the browser tests drive Chromium through Selenium: "
                                           "pip install -e '.[test]'")
    missing = _missing_browser()
    if missing:
        pytest.fail(missing, pytrace=False)
    session = start_chromium()
    yield session
    session.close()


def _missing_browser() -> str:
    """Why Chromium cannot be started ("" when it can)."""
    try:
        find_browser()
    except BrowserMissingError as error:
        return str(error)
    return ""
