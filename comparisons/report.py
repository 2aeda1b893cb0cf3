"""The report: what each study found, written as HTML, Markdown, JSON and PNG plots.

A study returns a ``Section``: an ordered list of blocks (paragraphs, ``Heading``, ``Table``,
``Plot``) for the reader, and three kinds of summary rows:

* ``Check`` — refnn against Keras, computed live: the max relative error per dtype and the
  tolerance of the contract (DESIGN.md), pass/fail. ``None`` means "not measured", with a note.
* ``Difference`` — a teaching difference, textbook against Keras: what, and how large.
* ``Finding`` — refnn alone on a published problem, beside the published number.

``write(report, out_dir)`` writes ``index.html`` (self-contained: inline CSS, the PNGs next to
it, no script, no network), ``report.md``, ``report.json`` (every number the studies put in
``Section.data``) and one PNG per plot. Plots are drawn with matplotlib's Agg canvas directly
(``matplotlib.figure.Figure``), so no display and no global backend switch is needed.
``summary_text(report)`` is the table the CLI prints.
"""

from __future__ import annotations

import html
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Series", "Panel", "Plot", "Table", "Heading", "Check", "Difference", "Finding", "Section",
    "Report", "Progress", "write", "render_plot", "summary_text", "fmt_err", "fmt_num", "format_table",
]


# ---- building blocks ------------------------------------------------------------------------------
@dataclass
class Series:
    """One curve (or one group of bars): ``style`` is a matplotlib format string (``"o--"``)."""

    label: str
    x: list
    y: list
    style: str = "-"


@dataclass
class Panel:
    """One set of axes. ``kind="bar"``: each series is a group of bars over the categories ``x``
    (every series must share them)."""

    title: str
    xlabel: str
    ylabel: str
    series: list[Series]
    xscale: str = "linear"
    yscale: str = "linear"
    kind: str = "line"
    hlines: list[tuple[float, str]] = field(default_factory=list)


@dataclass
class Plot:
    """A figure of one or more panels side by side, saved as ``<name>.png``."""

    name: str
    caption: str
    panels: list[Panel]


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Heading:
    text: str


@dataclass
class Check:
    """refnn vs Keras: ``errors = {"float64": max rel error or None, "float32": ...}``."""

    what: str
    errors: dict[str, float | None]
    tolerance: dict[str, float]
    note: str = ""

    @property
    def passed(self) -> bool | None:
        """``None`` when nothing was measured; otherwise every measured error within tolerance
        (NaN fails)."""
        measured = {k: v for k, v in self.errors.items() if v is not None}
        if not measured:
            return None
        return all(v <= self.tolerance[k] for k, v in measured.items())


@dataclass
class Difference:
    """Textbook vs Keras: ``size`` for people, ``value`` the headline number."""

    what: str
    size: str
    value: float


@dataclass
class Finding:
    """refnn alone on a published problem: what was measured, and the published number."""

    what: str
    measured: str
    published: str


@dataclass
class Section:
    """One study's output. ``data`` holds its raw numbers (JSON-serialisable, for tests and
    ``report.json``)."""

    key: str
    title: str
    blocks: list = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    data: dict = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, *blocks) -> None:
        self.blocks.extend(blocks)

    @property
    def plots(self) -> list[Plot]:
        return [b for b in self.blocks if isinstance(b, Plot)]


@dataclass
class Report:
    title: str
    sections: list[Section]
    meta: dict = field(default_factory=dict)

    @property
    def checks(self) -> list[Check]:
        return [c for s in self.sections for c in s.checks]

    @property
    def differences(self) -> list[Difference]:
        return [d for s in self.sections for d in s.differences]

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.sections for f in s.findings]

    @property
    def passed(self) -> bool:
        """No measured comparison failed (unmeasured ones are listed, not failures)."""
        return all(c.passed is not False for c in self.checks)


# ---- formatting -----------------------------------------------------------------------------------
def fmt_err(value) -> str:
    """A relative error: ``—`` (not measured), ``0`` (bit-identical), else ``3.3e-16``."""
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    return "0" if value == 0.0 else f"{value:.1e}"


def fmt_num(value, digits: int = 4) -> str:
    """A measured quantity with ``digits`` significant digits; ``—`` for None."""
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{max(digits - 1, 0)}e}"
    return f"{value:.{digits}g}"


def _status(check: Check) -> str:
    return {True: "pass", False: "FAIL", None: "not run"}[check.passed]


def _tolerance(check: Check) -> str:
    return " / ".join(f"{check.tolerance[k]:.0e}" for k in ("float64", "float32") if k in check.tolerance)


def format_table(headers, rows) -> str:
    """A plain-text table with aligned columns."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *map(line, cells[1:])])


def _summary_tables(report: Report) -> list[Table]:
    tables = []
    if report.checks:
        tables.append(Table(
            ["comparison (refnn vs Keras, live)", "max rel. error float64", "float32",
             "tolerance f64 / f32", "result"],
            [[c.what + (f" ({c.note})" if c.note else ""), fmt_err(c.errors.get("float64")),
              fmt_err(c.errors.get("float32")), _tolerance(c), _status(c)] for c in report.checks],
            "Comparisons: the same computation in refnn and in Keras/TensorFlow; the error is "
            "max|refnn − keras| / max|keras| over the compared tensors."))
    if report.differences:
        tables.append(Table(["teaching difference", "size of the difference"],
                            [[d.what, d.size] for d in report.differences],
                            "Where the lecture formulas and Keras differ, and what the numbers mean — measured live."))
    if report.findings:
        tables.append(Table(["published problem (refnn alone)", "measured", "published"],
                            [[f.what, f.measured, f.published] for f in report.findings],
                            "Classic full-batch algorithms on the problems of their papers."))
    return tables


def summary_text(report: Report) -> str:
    """The summary tables as plain text (what the CLI prints)."""
    out = []
    for table in _summary_tables(report):
        out += [table.caption, format_table(table.headers, table.rows), ""]
    checks = report.checks
    if not checks:
        return "\n".join(out)
    n_fail = sum(c.passed is False for c in checks)
    n_skip = sum(c.passed is None for c in checks)
    out.append(f"{len(checks) - n_fail - n_skip} of {len(checks)} comparisons within tolerance"
               + (f", {n_fail} FAILED" if n_fail else "") + (f", {n_skip} not run" if n_skip else "") + ".")
    return "\n".join(out)


# ---- plots ----------------------------------------------------------------------------------------
def _finite(values):
    return np.asarray(values, dtype=np.float64)


def render_plot(plot: Plot, path: str) -> str:
    """Draw ``plot`` with matplotlib's Agg canvas and save it as PNG at ``path``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(plot.panels)
    fig = Figure(figsize=(5.4 * n, 3.9), layout="constrained")
    FigureCanvasAgg(fig)
    for i, panel in enumerate(plot.panels):
        ax = fig.add_subplot(1, n, i + 1)
        if panel.kind == "bar":
            categories = list(panel.series[0].x) if panel.series else []
            pos = np.arange(len(categories))
            width = 0.8 / max(len(panel.series), 1)
            for j, s in enumerate(panel.series):
                ax.bar(pos + (j - (len(panel.series) - 1) / 2) * width, _finite(s.y), width, label=s.label)
            ax.set_xticks(pos)
            ax.set_xticklabels(categories, rotation=35 if len(categories) > 4 else 0, ha="right"
                               if len(categories) > 4 else "center", fontsize=8)
        else:
            for s in panel.series:
                ax.plot(_finite(s.x), _finite(s.y), s.style, label=s.label, markersize=4)
            ax.set_xscale(panel.xscale)
        ax.set_yscale(panel.yscale)
        for k, (y, label) in enumerate(panel.hlines):
            ax.axhline(y, color="0.35", linestyle=(":", "-.", "--")[k % 3], linewidth=1.1, label=label)
        ax.set_title(panel.title, fontsize=10)
        ax.set_xlabel(panel.xlabel)
        ax.set_ylabel(panel.ylabel)
        ax.grid(True, alpha=0.3)
        if panel.series or panel.hlines:
            ax.legend(fontsize=7)
    fig.savefig(path, dpi=100)
    return path


# ---- writers --------------------------------------------------------------------------------------
def _md_table(table: Table) -> str:
    esc = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in table.headers) + " |",
             "|" + "|".join("---" for _ in table.headers) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines = [f"*{table.caption}*", ""] + lines
    return "\n".join(lines)


def _markdown(report: Report) -> str:
    out = [f"# {report.title}", ""]
    out += [f"- {k}: {v}" for k, v in report.meta.items()] + [""]
    out += ["## Summary", ""]
    for table in _summary_tables(report):
        out += [_md_table(table), ""]
    for section in report.sections:
        out += [f"## {section.title}", "", f"*{section.seconds:.1f} s*", ""]
        for block in section.blocks:
            if isinstance(block, Heading):
                out += [f"### {block.text}", ""]
            elif isinstance(block, Table):
                out += [_md_table(block), ""]
            elif isinstance(block, Plot):
                out += [f"![{block.caption}]({block.name}.png)", "", f"*{block.caption}*", ""]
            else:
                out += [str(block), ""]
    return "\n".join(out)


_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}caption{caption-side:top;text-align:left;font-style:italic;padding:.3em 0}
td.pass{color:#176f2c;font-weight:600}td.FAIL{color:#b00020;font-weight:700}
td.not-run{color:#777}code{background:#f4f4f4;padding:0 .2em;border-radius:3px}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
figcaption{font-size:.88em;color:#444}.meta{color:#555;font-size:.9em}
"""


def _inline(text: str) -> str:
    """Escape, then ``code`` and **bold**."""
    out = html.escape(str(text))
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", out)


def _html_table(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = []
        for c in row:
            cls = {"pass": "pass", "FAIL": "FAIL", "not run": "not-run"}.get(str(c))
            cells.append(f'<td class="{cls}">{_inline(c)}</td>' if cls else f"<td>{_inline(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{_inline(table.caption)}</caption>" if table.caption else ""
    head = "<tr>" + "".join(f"<th>{_inline(h)}</th>" for h in table.headers) + "</tr>"
    return f"<table>{caption}<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _html(report: Report) -> str:
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{_inline(report.title)}"
             f"</title><style>{_CSS}</style></head><body>", f"<h1>{_inline(report.title)}</h1>",
             '<ul class="meta">' + "".join(f"<li>{_inline(k)}: {_inline(v)}</li>" for k, v in report.meta.items())
             + "</ul>", "<h2>Summary</h2>"]
    parts += [_html_table(t) for t in _summary_tables(report)]
    parts.append("<p>Studies: " + ", ".join(f'<a href="#{s.key}">{_inline(s.title)}</a>'
                                             for s in report.sections) + "</p>")
    for section in report.sections:
        parts.append(f'<h2 id="{section.key}">{_inline(section.title)}</h2>'
                     f'<p class="meta">{section.seconds:.1f} s</p>')
        for block in section.blocks:
            if isinstance(block, Heading):
                parts.append(f"<h3>{_inline(block.text)}</h3>")
            elif isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Plot):
                parts.append(f'<figure><img src="{html.escape(block.name)}.png" alt="{html.escape(block.caption)}">'
                             f"<figcaption>{_inline(block.caption)}</figcaption></figure>")
            else:
                parts.append(f"<p>{_inline(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


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


def _json(report: Report) -> str:
    payload = {
        "title": report.title,
        "meta": report.meta,
        "passed": report.passed,
        "checks": [{"what": c.what, "errors": c.errors, "tolerance": c.tolerance, "note": c.note,
                    "passed": c.passed} for c in report.checks],
        "differences": [{"what": d.what, "size": d.size, "value": d.value} for d in report.differences],
        "findings": [{"what": f.what, "measured": f.measured, "published": f.published} for f in report.findings],
        "sections": {s.key: {"title": s.title, "seconds": s.seconds, "data": s.data} for s in report.sections},
    }
    return json.dumps(_jsonable(payload), indent=1)


def write(report: Report, out_dir: str) -> dict[str, str]:
    """Write ``index.html``, ``report.md``, ``report.json`` and the plots into ``out_dir``
    (created if needed; files of the same names are replaced).

    Returns:
        ``{"html": path, "markdown": path, "json": path, "plots": [paths]}``.
    """
    os.makedirs(out_dir, exist_ok=True)
    plots = [render_plot(p, os.path.join(out_dir, f"{p.name}.png"))
             for s in report.sections for p in s.plots]
    paths = {"html": os.path.join(out_dir, "index.html"), "markdown": os.path.join(out_dir, "report.md"),
             "json": os.path.join(out_dir, "report.json")}
    for key, text in (("html", _html(report)), ("markdown", _markdown(report)), ("json", _json(report))):
        with open(paths[key], "w", encoding="utf-8") as fh:
            fh.write(text)
    return {**paths, "plots": plots}


# ---- progress -------------------------------------------------------------------------------------
class Progress:
    """Progress of the studies on a stream: a bar redrawn in place on a terminal, one line per
    study otherwise (logs stay readable). ``Progress(None)`` is silent.

    >>> progress.start("optimizers", total=12); progress.step("Adam float64"); progress.finish()
    """

    def __init__(self, stream=sys.stderr, width: int = 24):
        self.stream = stream
        self.width = width
        self.dynamic = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.title, self.total, self.done, self.t0 = "", 1, 0, 0.0

    def start(self, title: str, total: int) -> None:
        self.title, self.total, self.done, self.t0 = title, max(int(total), 1), 0, time.perf_counter()
        self._draw("")

    def step(self, label: str = "") -> None:
        self.done = min(self.done + 1, self.total)
        self._draw(label)

    def finish(self, message: str = "") -> float:
        seconds = time.perf_counter() - self.t0
        if self.stream is not None:
            end = "\r\033[K" if self.dynamic else ""
            self.stream.write(f"{end}{self.title:<12} done in {seconds:5.1f} s  {message}\n")
            self.stream.flush()
        return seconds

    def _draw(self, label: str) -> None:
        if not self.dynamic:
            return
        filled = int(self.width * self.done / self.total)
        bar = "=" * filled + (">" if filled < self.width else "") + "." * max(self.width - filled - 1, 0)
        self.stream.write(f"\r\033[K{self.title:<12} [{bar}] {self.done}/{self.total} {label[:40]}")
        self.stream.flush()
