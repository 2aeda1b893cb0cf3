"""Browser tests: pages and SVG files the project writes, opened in headless Chromium (``harness``)."""
