"""The main report (``refnn-compare --quick``: every lesson, then the parity appendix) in a real
browser: it loads with no console error, every figure is embedded and renders at a readable size,
no Markdown asterisk reaches the reader, the lessons come before the appendix.

Set ``REFNN_SCREENSHOTS=DIR`` to keep the screenshots of three lessons (the closing notes show them)."""

from __future__ import annotations

import os
import re

from comparisons import report as rep

#: lessons photographed for the closing notes
PHOTOGRAPHED = ("lesson-optimizers", "lesson-overfitting", "lesson-activations")
#: a figure narrower than this on a 1400-pixel window is too small to read when projected
NARROWEST_FIGURE_PX = 500


def _shots(tmp_path):
    return os.environ.get("REFNN_SCREENSHOTS") or str(tmp_path)


def test_the_report_renders_every_figure_and_no_raw_markup(chromium, quick_report, tmp_path):
    report = quick_report["report"]
    page = chromium.open(quick_report["out"] / "index.html", width=1400, height=1000,
                         screenshot=os.path.join(_shots(tmp_path), "report_top.png"))
    assert page.problems() == []
    figures = [p for s in report.sections for p in s.plots]
    assert len(page.images) == len(figures) >= 12
    assert all(image.src.startswith("data:image/svg+xml;base64,") for image in page.images)
    assert all(image.natural_width > 0 and image.natural_height > 0 for image in page.images)
    shown = chromium.driver.execute_script(
        "return Array.from(document.images, img => img.getBoundingClientRect().width);")
    assert min(shown) >= NARROWEST_FIGURE_PX, shown
    # the text a reader sees outside code (code may hold Python's ** legitimately)
    text = chromium.driver.execute_script(
        "const body = document.body.cloneNode(true);"
        "body.querySelectorAll('code, pre').forEach(el => el.remove());"
        "return body.textContent;")
    assert "**" not in text
    assert not re.search(r"(?<![\w*])\*[^*\s][^*\n]*\*(?![\w*])", text), "Markdown emphasis left unrendered"


def test_lessons_come_first_and_the_appendix_opens_with_its_summary(chromium, quick_report):
    report = quick_report["report"]
    chromium.open(quick_report["out"] / "index.html", width=1400, height=1000)
    top = chromium.driver.execute_script(
        "return Object.fromEntries(Array.from(document.querySelectorAll('section, #appendix'),"
        " el => [el.id, el.getBoundingClientRect().top + window.scrollY]));")
    lessons = [s.key for s in report.sections if s.part == rep.LESSON]
    evidence = [s.key for s in report.sections if s.part == rep.EVIDENCE]
    assert lessons and evidence
    assert max(top[k] for k in lessons) < top["appendix"] < min(top[k] for k in evidence)
    summary = chromium.driver.execute_script(
        "return document.querySelector('#appendix').nextElementSibling.innerText;")
    assert re.match(r"\d+ of \d+ comparisons within tolerance", summary), summary


def test_three_lessons_photographed(chromium, quick_report, tmp_path):
    # Chromium photographs only what the window shows: a window as tall as a lesson
    chromium.open(quick_report["out"] / "index.html", width=1400, height=5000)
    for key in PHOTOGRAPHED:
        path = chromium.screenshot_element(key, os.path.join(_shots(tmp_path), f"{key}.png"))
        with open(path, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n", key
