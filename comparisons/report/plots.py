"""Figures drawn with matplotlib's Agg canvas directly (``matplotlib.figure.Figure``): no display
and no global backend switch. Saved as SVG (vector: sharp on a projector at any size), or PNG at
twice the screen resolution when the path ends in ``.png``.

Sizes are chosen to be read from the back of a lecture hall: 12-point tick labels, 13-point axis
labels. A legend with more than four entries goes beside the axes, never over the curves.
"""

from __future__ import annotations

import numpy as np

from comparisons.report.blocks import Figure, Panel, Plot, Svg

__all__ = ["render_plot", "new_figure", "style_axes", "FONT"]

#: rcParams-like sizes shared by every figure (points)
FONT = {"tick": 11, "label": 12, "title": 12, "legend": 10}
_PANEL_SIZE = (5.6, 4.2)  # inches per panel
_LEGEND_INSIDE_UP_TO = 4


def new_figure(width: float, height: float):
    """A ``matplotlib.figure.Figure`` on its own Agg canvas, constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style_axes(ax, title: str, xlabel: str, ylabel: str, legend: bool = True) -> None:
    """Title, labels, grid and a legend that does not cover the data (see the module docstring)."""
    ax.set_title(title, fontsize=FONT["title"])
    ax.set_xlabel(xlabel, fontsize=FONT["label"])
    ax.set_ylabel(ylabel, fontsize=FONT["label"])
    ax.tick_params(labelsize=FONT["tick"])
    ax.grid(True, alpha=0.3)
    if not legend:
        return
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    if len(handles) > _LEGEND_INSIDE_UP_TO:
        ax.legend(fontsize=FONT["legend"], loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        ax.legend(fontsize=FONT["legend"], loc="best", framealpha=0.85)


def _finite(values):
    return np.asarray(values, dtype=np.float64)


def _draw_panel(ax, panel: Panel) -> None:
    if panel.kind == "bar":
        categories = list(panel.series[0].x) if panel.series else []
        pos = np.arange(len(categories))
        width = 0.8 / max(len(panel.series), 1)
        for j, s in enumerate(panel.series):
            ax.bar(pos + (j - (len(panel.series) - 1) / 2) * width, _finite(s.y), width, label=s.label,
                   **({} if s.color is None else {"color": s.color}))
        ax.set_xticks(pos)
        tilted = len(categories) > 4
        ax.set_xticklabels(categories, rotation=35 if tilted else 0, ha="right" if tilted else "center",
                           fontsize=FONT["tick"] - 2)
    else:
        for s in panel.series:
            colour = {} if s.color is None else {"color": s.color}  # a colour in `style` stays
            ax.plot(_finite(s.x), _finite(s.y), s.style, label=s.label, markersize=4,
                    linewidth=2.0 if ":" in s.style else 1.6, **colour)
        ax.set_xscale(panel.xscale)
    ax.set_yscale(panel.yscale)
    for k, (y, label) in enumerate(panel.hlines):
        ax.axhline(y, color="0.35", linestyle=(":", "-.", "--")[k % 3], linewidth=1.1, label=label)
    for k, (x, label) in enumerate(panel.vlines):
        ax.axvline(x, color=("0.2", "#b00020", "#1f5fbf")[k % 3], linestyle=("--", "-.", ":")[k % 3],
                   linewidth=1.2, label=label)
    style_axes(ax, panel.title, panel.xlabel, panel.ylabel)


def render_plot(plot: Plot | Figure | Svg, path: str) -> str:
    """Draw ``plot`` and save it at ``path`` (SVG, or PNG at 200 dpi for a ``.png`` path; an
    ``Svg`` is written as it is, to an ``.svg`` path only)."""
    if isinstance(plot, Svg):
        if not str(path).endswith(".svg"):
            raise ValueError(f"An Svg block is saved as .svg only. Received: path={path!r}")
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(plot.svg)
        return path
    if isinstance(plot, Figure):
        fig = new_figure(*plot.size)
        plot.draw(fig)
    else:
        n = len(plot.panels)
        crowded = any(len(p.series) + len(p.hlines) + len(p.vlines) > _LEGEND_INSIDE_UP_TO for p in plot.panels)
        fig = new_figure(_PANEL_SIZE[0] * n + (2.2 * n if crowded else 0.0), _PANEL_SIZE[1])
        for i, panel in enumerate(plot.panels):
            _draw_panel(fig.add_subplot(1, n, i + 1), panel)
    if str(path).endswith(".png"):
        fig.savefig(path, dpi=200)
    else:
        fig.savefig(path, format="svg", metadata={"Date": None})  # no date: the same figure, the same file
    return path
