"""The report: what each study found, written as HTML, Markdown, JSON and PNG plots.

A study returns a ``Section`` (``blocks``): an ordered list of blocks — paragraphs, ``Heading``,
``Table``, ``Plot`` — for the reader, and three kinds of summary rows: ``Check`` (an agreement,
measured; its ``kind`` says whether the other side is Keras/TensorFlow, refnn's own Keras port or
nothing but refnn), ``Difference`` (a teaching difference, textbook against Keras) and ``Finding``
(refnn alone on a published problem, beside the published number).

``write(report, out_dir)`` (``writer``) writes ``index.html`` (``html_page``: inline CSS, the PNGs
next to it, no script, no network), ``report.md`` (``markdown``), ``report.json`` (every number the
studies put in ``Section.data``) and one PNG per plot (``plots``). ``summary_text(report)``
(``summary``) is the table the CLI prints; ``Progress`` reports on stderr while studies run.
"""

from comparisons.report.blocks import (
    CHECK_KINDS, KERAS, PORT, SELF, Check, Difference, Finding, Heading, Panel, Plot, Report, Section,
    Series, Table,
)
from comparisons.report.plots import render_plot
from comparisons.report.progress import Progress
from comparisons.report.summary import fmt_err, fmt_num, format_table, summary_tables, summary_text
from comparisons.report.writer import write

__all__ = [
    "Series", "Panel", "Plot", "Table", "Heading", "Check", "Difference", "Finding", "Section", "Report",
    "KERAS", "PORT", "SELF", "CHECK_KINDS", "Progress", "write", "render_plot", "summary_text",
    "summary_tables", "fmt_err", "fmt_num", "format_table",
]
