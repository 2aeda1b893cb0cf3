"""Plots drawn with matplotlib's Agg canvas directly (``matplotlib.figure.Figure``): no display
and no global backend switch."""

from __future__ import annotations

import numpy as np

from comparisons.report.blocks import Plot

__all__ = ["render_plot"]


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
