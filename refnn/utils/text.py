"""Plain-text tables, as the comparison tables and reports print them."""

from __future__ import annotations

__all__ = ["format_table"]


def format_table(headers, rows) -> str:
    """Left-aligned columns two spaces apart, a dashed rule under the headers, no trailing spaces."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(cells[0]))]

    def line(row) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()

    return "\n".join([line(cells[0]), line(["-" * w for w in widths]), *map(line, cells[1:])])
