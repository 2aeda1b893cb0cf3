"""The report as one self-contained HTML page (``index.html``): inline CSS, figures embedded as SVG
data, no script, nothing fetched — it can be mailed, or opened from a USB stick in a lecture hall.

With lessons in the report the page is concepts first: the lessons (each a formula, a sentence,
the figure, the numbers), then an appendix with the parity evidence, its summary line on top.
"""

from __future__ import annotations

import base64
import html
import re

from comparisons.report.blocks import EVIDENCE, LESSON, Figure, Formula, Heading, Plot, Report, Section, Svg, Table
from comparisons.report.summary import summary_line, summary_tables

__all__ = ["html_page", "CSS", "inline_markup"]


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1180px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.5;font-size:17px}
h1{font-size:1.7em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
h3{margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em;display:block;max-width:100%;overflow-x:auto}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f2f2f2}caption{caption-side:top;text-align:left;font-style:italic;padding:.3em 0}
td.pass{color:#176f2c;font-weight:600}td.FAIL{color:#b00020;font-weight:700}
td.not-run{color:#777}code{background:#f4f4f4;padding:0 .2em;border-radius:3px}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.9em;color:#444}.meta{color:#555;font-size:.9em}
p.formula{font-family:'STIX Two Math','Cambria Math','DejaVu Serif',serif;font-size:1.15em;
background:#f7f9fc;border-left:4px solid #1f5fbf;padding:.45em .8em;margin:.8em 0;white-space:pre-wrap}
p.parity{font-weight:600}nav ol{columns:2}
"""


def inline_markup(text: str) -> str:
    """Escape, then ``code``, **bold** and *emphasis* (no Markdown asterisk reaches the page;
    inside code, asterisks stay: ``f(**kwargs)``)."""
    parts = re.split(r"`([^`]+)`", str(text))  # odd indices: code spans
    return "".join(f"<code>{html.escape(part)}</code>" if i % 2 else _emphasis(html.escape(part))
                   for i, part in enumerate(parts))


def _emphasis(escaped: str) -> str:
    out = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", out)


def _html_table(table: Table) -> str:
    rows = []
    for row in table.rows:
        cells = []
        for c in row:
            cls = {"pass": "pass", "FAIL": "FAIL", "not run": "not-run"}.get(str(c))
            cells.append(f'<td class="{cls}">{inline_markup(c)}</td>' if cls else f"<td>{inline_markup(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{inline_markup(table.caption)}</caption>" if table.caption else ""
    head = "<tr>" + "".join(f"<th>{inline_markup(h)}</th>" for h in table.headers) + "</tr>"
    return f"<table>{caption}<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _figure(block: Plot | Figure | Svg, figures: dict[str, bytes] | None) -> str:
    alt = html.escape(block.caption)
    if figures is not None and block.name in figures:
        data = base64.b64encode(figures[block.name]).decode("ascii")
        src = f"data:image/svg+xml;base64,{data}"
    else:
        src = html.escape(block.name) + ".svg"
    return (f'<figure id="fig-{html.escape(block.name)}"><img src="{src}" alt="{alt}">'
            f"<figcaption>{inline_markup(block.caption)}</figcaption></figure>")


def _section(section: Section, figures) -> list[str]:
    parts = [f'<section id="{section.key}"><h2>{inline_markup(section.title)}</h2>'
             f'<p class="meta">{section.seconds:.1f} s</p>']
    for block in section.blocks:
        if isinstance(block, Heading):
            parts.append(f"<h3>{inline_markup(block.text)}</h3>")
        elif isinstance(block, Formula):
            parts.append(f'<p class="formula">{html.escape(block.text)}</p>')
        elif isinstance(block, Table):
            parts.append(_html_table(block))
        elif isinstance(block, (Plot, Figure, Svg)):
            parts.append(_figure(block, figures))
        else:
            parts.append(f"<p>{inline_markup(block)}</p>")
    parts.append("</section>")
    return parts


def _contents(lessons: list[Section], evidence: list[Section]) -> str:
    items = [f'<li><a href="#{s.key}">{inline_markup(s.title)}</a></li>' for s in lessons]
    if evidence:
        items.append('<li><a href="#appendix">Appendix: parity evidence</a> — '
                     + ", ".join(f'<a href="#{s.key}">{inline_markup(s.title)}</a>' for s in evidence) + "</li>")
    return "<nav><h2>Contents</h2><ol>" + "".join(items) + "</ol></nav>"


def html_page(report: Report, figures: dict[str, bytes] | None = None) -> str:
    """The report as one HTML page. ``figures`` (name → SVG bytes) are embedded; without them the
    page links ``<name>.svg`` next to it."""
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
             f"<title>{inline_markup(report.title)}</title><style>{CSS}</style></head><body>",
             f"<h1>{inline_markup(report.title)}</h1>",
             '<ul class="meta">' + "".join(f"<li>{inline_markup(k)}: {inline_markup(v)}</li>"
                                           for k, v in report.meta.items()) + "</ul>"]
    lessons = [s for s in report.sections if s.part == LESSON]
    evidence = [s for s in report.sections if s.part == EVIDENCE]
    line = summary_line(report)
    if lessons:
        if line:
            where = 'in the <a href="#appendix">appendix</a>' if evidence else \
                'in the <a href="#checks">table after the lesson</a>'
            parts.append(f'<p class="parity">Checks: {inline_markup(line)} The evidence is {where}.</p>')
        if len(lessons) > 1 or evidence:
            parts.append(_contents(lessons, evidence))
        for section in lessons:
            parts += _section(section, figures)
        heading = '<h2 id="appendix">Appendix: parity evidence</h2>' if evidence else \
            '<h2 id="checks">The checks</h2>'
        parts.append(heading + (f'<p class="parity">{inline_markup(line)}</p>' if line else ""))
    else:
        parts.append("<h2>Summary</h2>")
    parts += [_html_table(t) for t in summary_tables(report)]
    if evidence:
        parts.append("<p>Studies: " + ", ".join(f'<a href="#{s.key}">{inline_markup(s.title)}</a>'
                                                 for s in evidence) + "</p>")
    for section in evidence:
        parts += _section(section, figures)
    parts.append("</body></html>")
    return "\n".join(parts)
