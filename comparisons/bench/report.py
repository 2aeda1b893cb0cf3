"""The bench as one self-contained HTML page, ``<out>/bench/index.html``: the table of time per
epoch, the performance targets, the scaling figures (time per epoch against batch size and
against width, log–log, with the fitted slopes) and the cost of Levenberg–Marquardt against the
parameter count (``comparisons.bench.lm_cost``).

Figures are drawn by the report's plotting (``comparisons.report.plots``: matplotlib's Agg
canvas), written next to the page as SVG and PNG, and embedded in the page as SVG data URIs:
nothing is fetched, the page can be mailed.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os

from comparisons.bench.lm_cost import N_ROWS, QUICK_N_ROWS, lm_cost_markdown, lm_cost_slopes, lm_cost_sweep
from comparisons.bench.scaling import scaling_markdown, why_mini_batches
from comparisons.report.blocks import Figure, Panel, Plot, Series, Table
from comparisons.report.html_page import CSS, inline_markup
from comparisons.report.plots import FONT, render_plot, style_axes

__all__ = ["write_page", "page_html", "scaling_plots", "lm_cost_plot", "run_lm_cost", "markdown_table"]

_COLOURS = {"gemm_floor": "0.35", "refnn": "#1f5fbf", "numpy_lean": "#176f2c", "keras": "#b00020"}
_STYLES = {"gemm_floor": "s:", "refnn": "o-", "numpy_lean": "^-", "keras": "D--"}


def _slope_text(value) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:+.2f}"


def _draw_curves(fig, curves, title, xlabel, sizes) -> None:
    """Log–log (base 2 for x, the sizes as tick labels), legend below the axes: never over a curve."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ax = fig.add_subplot(1, 1, 1)
    for framework, label, ys in curves:
        ax.plot(sizes, ys, _STYLES.get(framework, "o-"), color=_COLOURS.get(framework), label=label,
                markersize=5, linewidth=1.6)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(sizes))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(ScalarFormatter())
    style_axes(ax, title, xlabel, "time per epoch (ms)", legend=False)
    if curves:
        ax.legend(fontsize=FONT["legend"], loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)


def scaling_plots(scaling: dict) -> list[Figure]:
    """Two log–log figures: time per epoch against the batch size, and against the width; each
    curve's legend entry carries its fitted slopes."""
    spec, rows = scaling["spec"], scaling["rows"]
    fits = list(spec["batch_fits"])
    batch = [(r["framework"], f"{r['framework']}: slope " + ", ".join(
        f"{_slope_text(r['slopes'][k])} for {k}" for k in fits), [1000 * t for t in r["batch_s"]]) for r in rows]
    width = [(r["framework"], f"{r['framework']}: slope {_slope_text(r['slopes']['width'])} at large w",
              [1000 * t for t in r["width_s"]]) for r in rows]
    size = (7.0, 4.6 + 0.3 * len(rows))
    return [
        Figure("scaling_batch", f"Time per epoch against the batch size B ({spec['n_rows']} × {spec['n_features']} "
               f"synthetic data, two hidden layers of {spec['fixed_width']}); log–log, slopes fitted per regime.",
               lambda fig: _draw_curves(fig, batch, "Time per epoch vs batch size",
                                        "batch size B (examples per step)", spec["batch_sizes"]), size),
        Figure("scaling_width", f"Time per epoch against the hidden width w (two hidden layers of w, batch size "
               f"{spec['fixed_batch']}); log–log.",
               lambda fig: _draw_curves(fig, width, "Time per epoch vs hidden width",
                                        "hidden width w (units per layer)", spec["widths"]), size),
    ]


def run_lm_cost(quick: bool = False) -> dict:
    """``comparisons.bench.lm_cost``'s sweep: ``{"rows", "n_rows", "markdown", "slopes"}``."""
    n_rows = QUICK_N_ROWS if quick else N_ROWS
    rows = lm_cost_sweep(n_rows=n_rows, quick=quick)
    return {"rows": rows, "n_rows": n_rows, "markdown": lm_cost_markdown(rows, n_rows),
            "slopes": lm_cost_slopes(rows)}


def lm_cost_plot(lm_cost: dict) -> Plot | None:
    """Time and memory of one Levenberg–Marquardt epoch against the parameter count P (log–log)."""
    rows, slopes = lm_cost["rows"], lm_cost["slopes"]
    if not rows:
        return None
    ps = [r["params"] for r in rows]
    time_panel = Panel("LM: time per epoch", "parameters P", "time per epoch (s)",
                       [Series(f"measured (slope {_slope_text(slopes['seconds'])})", ps,
                               [r["seconds"] for r in rows], "o-", _COLOURS["refnn"])], xscale="log", yscale="log")
    memory_panel = Panel("LM: memory of one epoch", "parameters P", "memory (MB)",
                         [Series(f"traced peak (slope {_slope_text(slopes['peak_mb'])})", ps,
                                 [r["peak_mb"] for r in rows], "o-", _COLOURS["refnn"]),
                          Series("estimate (lm_step_memory_bytes)", ps, [r["estimate_mb"] for r in rows], "s:",
                                 _COLOURS["gemm_floor"])], xscale="log", yscale="log")
    return Plot("lm_cost", f"Levenberg–Marquardt, one full-batch epoch on {lm_cost['n_rows']} rows: time and "
                "memory against the number of parameters P (log–log).", [time_panel, memory_panel])


def _lm_blocks(lm_cost: dict) -> list:
    text = lm_cost["markdown"]
    paragraphs = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("|")]
    plot = lm_cost_plot(lm_cost)
    return [*paragraphs[:1], markdown_table(text), *paragraphs[1:], *([plot] if plot else [])]


def markdown_table(text: str, caption: str = "") -> Table | None:
    """The first pipe table in ``text`` (e.g. ``BenchResult.to_markdown()``) as a ``Table``."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    cells = [c for c in cells if not all(set(x) <= set("-: ") for x in c)]
    return Table(cells[0], cells[1:], caption) if cells else None


def _target_status(met: bool, value: str) -> str:
    """"not run" for a target whose cells were not measured (``targets`` says so in ``value``)."""
    return "not run" if "not measured" in str(value) else ("pass" if met else "FAIL")


def _bench_blocks(out_dir: str) -> tuple[list, dict]:
    """The bench's table as ``write`` left it in ``bench.md`` (so the page shows the same columns),
    its targets and environment from ``bench.json``."""
    md, js = os.path.join(out_dir, "bench.md"), os.path.join(out_dir, "bench.json")
    if not (os.path.exists(md) and os.path.exists(js)):
        return ["No bench table yet: run `refnn-compare bench` (it writes `bench.md` and `bench.json` "
                "next to this folder)."], {}
    with open(md, encoding="utf-8") as fh:
        table = markdown_table(fh.read(), "Median time per epoch after a warm-up epoch, best of the repeats; "
                                          "peak RSS of the worker's process.")
    with open(js, encoding="utf-8") as fh:
        raw = json.load(fh)
    targets = Table(["target", "met", "measured"],
                    [[name, _target_status(met, value), value] for name, met, value in raw.get("targets", [])],
                    "The performance targets of the bench.")
    return [b for b in (table, targets) if b], raw.get("environment", {})


def _scaling_blocks(scaling: dict | None) -> list:
    if scaling is None:
        return ["No scaling sweep yet: run `refnn-compare bench --scaling`."]
    table = markdown_table(scaling_markdown(scaling), "Least-squares slope of log(time per epoch) against "
                                                      "log(size), over the points of each regime only.")
    return [why_mini_batches(scaling), table, *scaling_plots(scaling)]


def _figure_html(plot: Plot | Figure, svg: bytes) -> str:
    src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return (f'<figure id="fig-{html.escape(plot.name)}"><img src="{src}" alt="{html.escape(plot.caption)}">'
            f"<figcaption>{inline_markup(plot.caption)}</figcaption></figure>")


def _table_html(table: Table) -> str:
    def cell(c):
        cls = {"pass": ' class="pass"', "FAIL": ' class="FAIL"', "not run": ' class="not-run"'}.get(str(c), "")
        return f"<td{cls}>{inline_markup(c)}</td>"

    head = "".join(f"<th>{inline_markup(h)}</th>" for h in table.headers)
    body = "".join("<tr>" + "".join(cell(c) for c in row) + "</tr>" for row in table.rows)
    caption = f"<caption>{inline_markup(table.caption)}</caption>" if table.caption else ""
    return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page_html(sections: list[tuple[str, list]], figures: dict[str, bytes], meta: dict) -> str:
    """``sections``: (title, blocks) with blocks paragraphs, ``Table`` or ``Plot`` (its SVG in
    ``figures``)."""
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             '<meta name="viewport" content="width=device-width, initial-scale=1">'
             f"<title>refnn benchmark</title><style>{CSS}</style></head><body><h1>refnn benchmark</h1>",
             '<ul class="meta">' + "".join(f"<li>{inline_markup(k)}: {inline_markup(v)}</li>"
                                           for k, v in meta.items()) + "</ul>"]
    for title, blocks in sections:
        parts.append(f"<h2>{inline_markup(title)}</h2>")
        for block in blocks:
            if isinstance(block, Table):
                parts.append(_table_html(block))
            elif isinstance(block, (Plot, Figure)):
                parts.append(_figure_html(block, figures[block.name]))
            else:
                parts.append(f"<p>{inline_markup(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _load(out_dir: str, name: str, given: dict | None) -> dict | None:
    path = os.path.join(out_dir, name)
    if given is None and os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    return given


def write_page(out_dir: str, scaling: dict | None = None, lm_cost: dict | None = None) -> dict:
    """Write ``<out_dir>/bench/index.html`` with every figure as ``.svg`` and ``.png`` beside it.

    The bench table comes from ``<out_dir>/bench.json`` and, unless given, the sweep from
    ``<out_dir>/scaling.json`` and ``lm_cost.json`` (any may be missing: the page says how to
    make the first two; Levenberg–Marquardt's section appears when there are rows).
    Returns ``{"html": path, "figures": [paths]}``.
    """
    page_dir = os.path.join(out_dir, "bench")
    os.makedirs(page_dir, exist_ok=True)
    scaling, lm_cost = _load(out_dir, "scaling.json", scaling), _load(out_dir, "lm_cost.json", lm_cost)
    bench, meta = _bench_blocks(out_dir)
    if scaling is not None:
        spec = scaling["spec"]
        meta = {**meta, "scaling data": f"{spec['n_rows']} × {spec['n_features']} synthetic, float32, "
                                        f"{spec['epochs']} epochs per point (first one a warm-up; fastest kept), "
                                        f"best of {scaling.get('repeats', 1)} interleaved sweep(s)"}
    sections = [("Time per epoch and the targets", bench),
                ("How cost grows: why mini-batches", _scaling_blocks(scaling))]
    if lm_cost and lm_cost["rows"]:
        sections.append(("Levenberg–Marquardt: cost against the parameter count", _lm_blocks(lm_cost)))
    figures, paths = {}, []
    for block in (b for _, blocks in sections for b in blocks if isinstance(b, (Plot, Figure))):
        svg = render_plot(block, os.path.join(page_dir, f"{block.name}.svg"))
        paths += [svg, render_plot(block, os.path.join(page_dir, f"{block.name}.png"))]
        with open(svg, "rb") as fh:
            figures[block.name] = fh.read()
    page = os.path.join(page_dir, "index.html")
    with open(page, "w", encoding="utf-8") as fh:
        fh.write(page_html(sections, figures, meta))
    return {"html": page, "figures": paths}
