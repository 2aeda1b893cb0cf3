"""The browser harness catches what it must: console errors, uncaught errors, broken images, inline
SVG sizes, and a standalone SVG file that is (or is not) well-formed XML."""

from __future__ import annotations

import re

import pytest

from tests.browser.harness import BrowserMissingError, find_browser

ONE_PIXEL_PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8"
                 "AAAAASUVORK5CYII=")
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="80"><rect width="10" height="10"{end}</svg>'


def _page(folder, name: str, body: str) -> str:
    path = folder / name
    path.write_text(f"<!doctype html><html><head><title>{name}</title></head><body>{body}</body></html>")
    return str(path)


def test_a_clean_page_reports_its_title_images_and_inline_svgs(chromium, tmp_path):
    page = chromium.open(_page(tmp_path, "clean.html", f'<img src="{ONE_PIXEL_PNG}">' + SVG.format(end="/>")),
                         screenshot=str(tmp_path / "shots" / "clean.png"))
    assert page.title == "clean.html" and page.console_errors == [] and page.problems() == []
    assert [(i.complete, i.natural_width, i.natural_height, i.broken) for i in page.images] == [(True, 1, 1, False)]
    assert page.images[0].src == ONE_PIXEL_PNG[:80]
    assert [(box.width, box.height) for box in page.svgs] == [(120.0, 80.0)]
    assert page.root_tag == "html" and not page.root_is_svg and page.parse_error is None
    assert (tmp_path / "shots" / "clean.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_errors_and_uncaught_errors_are_caught(chromium, tmp_path):
    logged = chromium.open(_page(tmp_path, "logged.html", '<script>console.error("x marks the spot")</script>'))
    assert any("x marks the spot" in error for error in logged.console_errors)
    thrown = chromium.open(_page(tmp_path, "thrown.html",
                                 '<script>throw new Error("boom")</script>'
                                 '<script>Promise.reject(new Error("later"))</script>'))
    assert any("Uncaught Error: boom" in error for error in thrown.console_errors)
    assert any("Uncaught Error: later" in error for error in thrown.console_errors)  # the unhandled rejection
    assert len(thrown.console_errors) == 2, thrown.console_errors


def test_a_broken_image_has_no_pixels(chromium, tmp_path):
    page = chromium.open(_page(tmp_path, "broken.html", '<img src="data:image/png;base64,AAAA">'))
    assert [(i.complete, i.natural_width, i.broken) for i in page.images] == [(True, 0, True)]
    assert page.problems() == ["broken image: data:image/png;base64,AAAA"]


def test_a_well_formed_svg_file_is_an_svg_document(chromium, tmp_path):
    path = tmp_path / "good.svg"
    path.write_text(SVG.format(end="/>"))
    page = chromium.open(path)
    assert page.root_is_svg and page.root_size == (120.0, 80.0)
    assert page.parse_error is None and page.problems() == [] and len(page.svgs) == 1


def test_a_malformed_svg_file_reports_the_parse_error(chromium, tmp_path):
    path = tmp_path / "bad.svg"
    path.write_text(SVG.format(end=">"))  # <rect> never closed
    page = chromium.open(path.as_uri())
    assert not page.root_is_svg
    assert page.parse_error is not None and "This page contains the following errors" in page.parse_error
    assert "error on line 1" in page.parse_error
    assert page.problems()[-1].startswith("XML parse error: ")


def test_missing_browser_fails_with_the_command_that_installs_it(tmp_path):
    expected = r"not found on PATH: chromium, chromedriver\. `make test` installs them"
    with pytest.raises(BrowserMissingError, match=expected):
        find_browser(search_path=str(tmp_path))


def test_open_rejects_a_missing_file_and_a_bad_size(chromium, tmp_path):
    missing = str(tmp_path / "nowhere.html")
    with pytest.raises(FileNotFoundError, match=re.escape(f"Received: path_or_url={missing!r}")):
        chromium.open(missing)
    with pytest.raises(ValueError, match=r"width must be a positive number of pixels. Received: width=0"):
        chromium.open(_page(tmp_path, "size.html", ""), width=0)
