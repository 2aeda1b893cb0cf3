"""The report: what each study and lesson found, written as HTML (self-contained), Markdown, JSON and SVG figures.

A study returns a ``Section`` (``blocks``): an ordered list of blocks — paragraphs, ``Heading``,
``Table``, ``Plot`` — for the reader, and three kinds of summary rows: ``Check`` (an agreement,
measured; its ``kind`` says whether the other side is Keras/TensorFlow, refnn's own Keras port or
nothing but refnn), ``Difference`` (a teaching difference, textbook against Keras) and ``Finding``
(refnn alone on a published problem, beside the published number).

``write(report, out_dir)`` (``writer``) writes ``index.html`` (``html_page``: inline CSS, figures
embedded as SVG, no script, no network), ``report.md`` (``markdown``), ``report.json`` (every number
the studies put in ``Section.data``) and one SVG per figure (``plots``; ``Figure`` draws what a
``Plot`` of panels cannot). Lessons (``Section.part == LESSON``) come first in the page, the parity
evidence after them in an appendix. ``summary_text(report)``
(``summary``) is the table the CLI prints; ``Progress`` reports on stderr while studies run.
"""

from comparisons.report.blocks import (
    CHECK_KINDS, EVIDENCE, KERAS, LESSON, PORT, SELF, STATS, Check, Difference, Figure, Finding, Formula, Heading,
    Panel, Plot, Report, Section, Series, Svg, Table,
)
from comparisons.report.plots import new_figure, render_plot, style_axes
from comparisons.report.progress import Progress
from comparisons.report.summary import fmt_err, fmt_num, format_table, summary_line, summary_tables, summary_text
from comparisons.report.writer import write

__all__ = [
    "Series", "Panel", "Plot", "Figure", "Svg", "Formula", "Table", "Heading", "Check", "Difference", "Finding",
    "Section", "Report", "KERAS", "PORT", "SELF", "STATS", "CHECK_KINDS", "LESSON", "EVIDENCE", "Progress", "write",
    "render_plot", "new_figure", "style_axes", "summary_text", "summary_line", "summary_tables", "fmt_err",
    "fmt_num", "format_table",
]
