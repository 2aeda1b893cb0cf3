"""The report as Markdown (``report.md``)."""

from __future__ import annotations

from comparisons.report.blocks import LESSON, Figure, Formula, Heading, Plot, Report, Svg, Table
from comparisons.report.summary import summary_line, summary_tables

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
    """The report as Markdown, in the page's order (lessons, then the parity evidence); figures
    are linked as ``<name>.svg`` next to it."""
    out = [f"# {report.title}", ""]
    out += [f"- {k}: {v}" for k, v in report.meta.items()] + [""]
    lessons = [s for s in report.sections if s.part == LESSON]
    evidence = [s for s in report.sections if s.part != LESSON]
    for section in lessons:
        out += _section(section)
    line = summary_line(report)
    out += ["## Appendix: parity evidence" if lessons else "## Summary", ""] + ([line, ""] if line else [])
    for table in summary_tables(report):
        out += [_md_table(table), ""]
    for section in evidence:
        out += _section(section)
    return "\n".join(out)


def _section(section) -> list[str]:
    out = [f"## {section.title}", "", f"*{section.seconds:.1f} s*", ""]
    for block in section.blocks:
        if isinstance(block, Heading):
            out += [f"### {block.text}", ""]
        elif isinstance(block, Table):
            out += [_md_table(block), ""]
        elif isinstance(block, Formula):
            out += ["```text", block.text, "```", ""]
        elif isinstance(block, (Plot, Figure, Svg)):
            out += [f"![{block.caption}]({block.name}.svg)", "", f"*{block.caption}*", ""]
        else:
            out += [str(block), ""]
    return out
