"""The report as one HTML page (``index.html``): inline CSS, no script, no network."""

from __future__ import annotations

import html
import re

from comparisons.report.blocks import Heading, Plot, Report, Table
from comparisons.report.summary import summary_tables

__all__ = ["html_page", "CSS", "inline_markup"]


CSS = """
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


def inline_markup(text: str) -> str:
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
            cells.append(f'<td class="{cls}">{inline_markup(c)}</td>' if cls else f"<td>{inline_markup(c)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    caption = f"<caption>{inline_markup(table.caption)}</caption>" if table.caption else ""
    head = "<tr>" + "".join(f"<th>{inline_markup(h)}</th>" for h in table.headers) + "</tr>"
    return f"<table>{caption}<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def html_page(report: Report) -> str:
    """The report as one HTML page; plots are ``<img>`` of the PNGs written next to it."""
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{inline_markup(report.title)}"
             f"</title><style>{CSS}</style></head><body>", f"<h1>{inline_markup(report.title)}</h1>",
             '<ul class="meta">' + "".join(f"<li>{inline_markup(k)}: {inline_markup(v)}</li>"
                                           for k, v in report.meta.items()) + "</ul>", "<h2>Summary</h2>"]
    parts += [_html_table(t) for t in summary_tables(report)]
    parts.append("<p>Studies: " + ", ".join(f'<a href="#{s.key}">{inline_markup(s.title)}</a>'
                                             for s in report.sections) + "</p>")
    for section in report.sections:
        parts.append(f'<h2 id="{section.key}">{inline_markup(section.title)}</h2>'
                     f'<p class="meta">{section.seconds:.1f} s</p>')
        for block in section.blocks:
            if isinstance(block, Heading):
                parts.append(f"<h3>{inline_markup(block.text)}</h3>")
            elif isinstance(block, Table):
                parts.append(_html_table(block))
            elif isinstance(block, Plot):
                parts.append(f'<figure><img src="{html.escape(block.name)}.png" alt="{html.escape(block.caption)}">'
                             f"<figcaption>{inline_markup(block.caption)}</figcaption></figure>")
            else:
                parts.append(f"<p>{inline_markup(block)}</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
