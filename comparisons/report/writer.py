"""``write(report, out_dir)``: ``index.html`` (figures embedded), ``report.md``, ``report.json`` and one
SVG per figure."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from comparisons.report.blocks import Report
from comparisons.report.html_page import html_page
from comparisons.report.markdown import markdown
from comparisons.report.plots import render_plot

__all__ = ["write", "json_text"]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    return value


def json_text(report: Report) -> str:
    """Every number of the report, as JSON (``report.json``)."""
    payload = {
        "title": report.title,
        "meta": report.meta,
        "passed": report.passed,
        "checks": [{"what": c.what, "kind": c.kind, "errors": c.errors, "tolerance": c.tolerance,
                    "note": c.note, "passed": c.passed} for c in report.checks],
        "differences": [{"what": d.what, "size": d.size, "value": d.value} for d in report.differences],
        "findings": [{"what": f.what, "measured": f.measured, "published": f.published} for f in report.findings],
        "sections": {s.key: {"title": s.title, "seconds": s.seconds, "data": s.data} for s in report.sections},
    }
    return json.dumps(_jsonable(payload), indent=1)


def write(report: Report, out_dir: str) -> dict[str, str]:
    """Write ``index.html`` (self-contained: the figures are embedded), ``report.md``,
    ``report.json`` and one SVG per figure (for the Markdown) into ``out_dir`` (created if needed;
    files of the same names are replaced).

    Returns:
        ``{"html": path, "markdown": path, "json": path, "plots": [paths]}``.
    """
    os.makedirs(out_dir, exist_ok=True)
    figures, plots = {}, []
    for section in report.sections:
        for plot in section.plots:
            path = render_plot(plot, os.path.join(out_dir, f"{plot.name}.svg"))
            with open(path, "rb") as fh:
                figures[plot.name] = fh.read()
            plots.append(path)
    paths = {"html": os.path.join(out_dir, "index.html"), "markdown": os.path.join(out_dir, "report.md"),
             "json": os.path.join(out_dir, "report.json")}
    pages = (("html", html_page(report, figures)), ("markdown", markdown(report)), ("json", json_text(report)))
    for key, text in pages:
        with open(paths[key], "w", encoding="utf-8") as fh:
            fh.write(text)
    return {**paths, "plots": plots}
