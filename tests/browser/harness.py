"""Open a page or an SVG file in headless Chromium and report what a reader would see go wrong.

>>> with start_chromium() as browser:                 # or the session fixture ``chromium``
...     page = browser.open("reports/report.html", screenshot="shot.png")
>>> page.console_errors, page.images, page.svgs, page.parse_error, page.problems()

It drives Debian's ``chromium`` through its ``chromedriver`` (packages ``chromium`` and
``chromium-driver``; ``make test`` installs them), both found on ``PATH``. Selenium is handed
that driver, so Selenium Manager never looks for (or downloads) one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BrowserMissingError", "ChromiumSession", "ImageInfo", "PageResult", "SvgBox", "find_browser",
           "open_in_chromium", "start_chromium"]

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage")

#: Waits (up to the given milliseconds) for every <img> to finish loading, then two animation frames
#: so layout is done, and returns what the page shows.
_INSPECT_PAGE = """
const [limitMs, done] = arguments;
const start = performance.now();
function box(el) { const r = el.getBoundingClientRect(); return [r.width, r.height]; }
function report() {
  const root = document.documentElement;
  const parseError = document.getElementsByTagName('parsererror')[0];
  done({
    title: document.title,
    images: Array.from(document.images, img => [img.currentSrc || img.getAttribute('src') || '',
                                                img.complete, img.naturalWidth, img.naturalHeight]),
    svgs: Array.from(document.getElementsByTagNameNS('http://www.w3.org/2000/svg', 'svg'), box),
    root: root ? [root.localName, root.namespaceURI || '', ...box(root)] : ['', '', 0, 0],
    parseError: parseError ? parseError.textContent.trim() : null,
  });
}
(function wait() {
  const loading = Array.from(document.images).some(img => !img.complete);
  if (loading && performance.now() - start < limitMs) { setTimeout(wait, 25); return; }
  requestAnimationFrame(() => requestAnimationFrame(report));
})();
"""

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


class BrowserMissingError(RuntimeError):
    """Chromium or its driver is not installed."""


@dataclass(frozen=True)
class ImageInfo:
    """One ``<img>``: the first 80 characters of its source, whether loading finished, its pixel size."""

    src: str
    complete: bool
    natural_width: int
    natural_height: int

    @property
    def broken(self) -> bool:
        """Finished loading but has no pixels: a missing file or undecodable data."""
        return self.complete and self.natural_width == 0


@dataclass(frozen=True)
class SvgBox:
    """The rendered size (CSS pixels) of one ``<svg>`` element."""

    width: float
    height: float


@dataclass
class PageResult:
    """What Chromium showed for one page.

    Attributes:
        url: the address opened.
        title: ``document.title``.
        console_errors: the browser log's SEVERE entries: ``console.error`` calls, uncaught errors
            and unhandled promise rejections ("... Uncaught Error: boom"), resources that failed to load.
        images: every ``<img>``, in document order.
        svgs: every ``<svg>`` element (inline ones; the root too for an SVG file), in document order.
        root_tag, root_namespace, root_size: the document element and its rendered (width, height).
        parse_error: the text of the XML ``parsererror`` Chromium shows for a malformed SVG/XML
            file ("This page contains the following errors: ..."), else ``None``.
        screenshot: the PNG written, if one was asked for.
    """

    url: str
    title: str
    console_errors: list[str] = field(default_factory=list)
    images: list[ImageInfo] = field(default_factory=list)
    svgs: list[SvgBox] = field(default_factory=list)
    root_tag: str = ""
    root_namespace: str = ""
    root_size: tuple[float, float] = (0.0, 0.0)
    parse_error: str | None = None
    screenshot: str | None = None

    @property
    def root_is_svg(self) -> bool:
        """The document is an SVG drawing: its root is an SVG-namespace ``<svg>`` of non-zero size."""
        return self.root_tag == "svg" and self.root_namespace == SVG_NAMESPACE and min(self.root_size) > 0

    def problems(self) -> list[str]:
        """Everything a reader would see go wrong, one line each (empty for a clean page)."""
        found = [f"console: {error}" for error in self.console_errors]
        found += [f"broken image: {image.src}" for image in self.images if image.broken]
        found += [f"image never finished loading: {image.src}" for image in self.images if not image.complete]
        found += [f"empty <svg> #{i}: {box.width}x{box.height}" for i, box in enumerate(self.svgs)
                  if min(box.width, box.height) <= 0]
        if self.parse_error is not None:
            found.append(f"XML parse error: {self.parse_error}")
        return found


def find_browser(search_path: str | None = None) -> tuple[str, str]:
    """``(chromium, chromedriver)`` found on ``search_path`` (default ``PATH``).

    Raises:
        BrowserMissingError: naming what is missing and how to install it.
    """
    browser, driver = shutil.which("chromium", path=search_path), shutil.which("chromedriver", path=search_path)
    missing = [name for name, found in (("chromium", browser), ("chromedriver", driver)) if found is None]
    if missing:
        raise BrowserMissingError(
            f"The browser tests need Chromium and its driver; not found on PATH: {', '.join(missing)}. "
            "`make test` installs them (Debian packages chromium and chromium-driver: "
            "apt-get install chromium chromium-driver).")
    return browser, driver


class ChromiumSession:
    """One headless Chromium, driven by Selenium; ``open`` loads pages in it one after another."""

    def __init__(self, driver):
        self.driver = driver

    def open(self, path_or_url, *, screenshot: str | None = None, width: int = 1400,
             height: int = 1000) -> PageResult:
        """Load a file (HTML, SVG, ...) or URL in a ``width`` x ``height`` window and inspect it.

        Args:
            path_or_url: a path to an existing file, or an address with a scheme (``file://``,
                ``http://``, ``data:`` ...).
            screenshot: where to write a PNG of the window, if wanted (folders are created).
            width, height: the window size in pixels.
        """
        url = _as_url(path_or_url)
        for name, value in (("width", width), ("height", height)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"open_in_chromium: {name} must be a positive number of pixels. "
                                 f"Received: {name}={value!r}")
        self.driver.set_window_size(width, height)
        self.driver.get_log("browser")  # drop what earlier pages logged
        self.driver.get(url)
        seen = self.driver.execute_async_script(_INSPECT_PAGE, 5000)
        logged = [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        result = PageResult(
            url=url, title=seen["title"], console_errors=logged,
            images=[ImageInfo(src[:80], bool(done), int(w), int(h)) for src, done, w, h in seen["images"]],
            svgs=[SvgBox(float(w), float(h)) for w, h in seen["svgs"]],
            root_tag=seen["root"][0], root_namespace=seen["root"][1],
            root_size=(float(seen["root"][2]), float(seen["root"][3])), parse_error=seen["parseError"])
        if screenshot is not None:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            if not self.driver.save_screenshot(str(screenshot)):
                raise OSError(f"open_in_chromium: could not write the screenshot to {screenshot!r}")
            result.screenshot = str(screenshot)
        return result

    def screenshot_element(self, element_id: str, path) -> str:
        """A PNG of the element ``element_id`` of the page last opened (scrolled into view), e.g.
        one lesson's ``<section>``; returns the path."""
        from selenium.webdriver.common.by import By

        element = self.driver.find_element(By.ID, element_id)
        self.driver.execute_script("arguments[0].scrollIntoView();", element)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        if not element.screenshot(str(path)):
            raise OSError(f"screenshot_element: could not write the screenshot to {str(path)!r}")
        return str(path)

    def close(self) -> None:
        self.driver.quit()

    def __enter__(self) -> "ChromiumSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_chromium() -> ChromiumSession:
    """Start headless Chromium (``CHROMIUM_FLAGS``) with its browser log recorded at every level."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = find_browser()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(15)
    return ChromiumSession(driver)


def open_in_chromium(path_or_url, *, screenshot: str | None = None, width: int = 1400,
                     height: int = 1000) -> PageResult:
    """``ChromiumSession.open`` in a Chromium started for this one page (tests share the
    ``chromium`` fixture's instead: starting one takes a second or two)."""
    with start_chromium() as browser:
        return browser.open(path_or_url, screenshot=screenshot, width=width, height=height)


def _as_url(path_or_url) -> str:
    text = str(path_or_url)
    if "://" in text or text.startswith(("data:", "about:")):
        return text
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"open_in_chromium: no such file. Received: path_or_url={path_or_url!r}")
    return path.resolve().as_uri()
