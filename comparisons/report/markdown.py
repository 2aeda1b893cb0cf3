"""The report as Markdown (``report.md``)."""

from __future__ import annotations

from comparisons.report.blocks import Heading, Plot, Report, Table
from comparisons.report.summary import summary_tables

__all__ = ["markdown"]


def _md_table(table: Table) -> str:
    esc = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(esc(h) for h in table.headers) + " |",
             "|" + "|".join("---" for _ in table.headers) + "|"]
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in table.rows]
    if table.caption:
        lines = [f"*{table.caption}*", ""] + lines
    return "\n".join(lines)


def markdown(report: Report) -> str:
    """The report as Markdown; plots are linked as ``<name>.png`` next to it."""
    out = [f"# {report.title}", ""]
    out += [f"- {k}: {v}" for k, v in report.meta.items()] + [""]
    out += ["## Summary", ""]
    for table in summary_tables(report):
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
