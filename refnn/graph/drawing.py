"""Drawing a computation graph: SVG written directly (no Graphviz needed), and DOT for Graphviz.

Layout, left to right from the inputs to the loss: an operation sits one column right of its
right-most input (its depth); a leaf — an input, a parameter, a constant — sits just left of the
first operation that uses it, so a layer's weights enter where they are used. Each node is a card:
its name and operation, its shape, its value in green above the rule and its gradient in red
below — as in CS231n's circuit diagrams, the forward value above the wire and the gradient below.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

from refnn.graph.display import array_lines, node_caption

__all__ = ["render_svg", "render_dot", "VALUE_COLOUR", "GRADIENT_COLOUR"]

VALUE_COLOUR = "#1b7a2f"      # forward values: green
GRADIENT_COLOUR = "#c0392b"   # gradients: red
_FONT_SIZE = 12
_CHAR_WIDTH = 7.25            # DejaVu Sans Mono at 12 px
_LINE = 16
_PAD = 8
_COLUMN_GAP = 38
_ROW_GAP = 22
_MARGIN = 20
_LEGEND = 54


@dataclass
class _Card:
    node: object
    lines: list          # (text, kind) with kind "title", "op", "value", "grad", "rule"
    width: float
    height: float
    x: float = 0.0
    y: float = 0.0


def _card(node, label: str) -> _Card:
    lines = [(label, "title"), (f"{node.op}  {node.shape}", "op")]
    lines += [(f"{key}={value}", "op") for key, value in node.attrs.items()]
    lines += [(text, "value") for text in array_lines(node.value)]
    lines.append(("", "rule"))
    if node.grad is None:
        lines.append(("no gradient", "grad"))
    else:
        lines += [(("∂L " if i == 0 else "   ") + text, "grad") for i, text in enumerate(array_lines(node.grad))]
    width = max(len(text) for text, _ in lines) * _CHAR_WIDTH + 2 * _PAD
    height = sum(6 if kind == "rule" else _LINE for _, kind in lines) + 2 * _PAD
    return _Card(node, lines, max(width, 90.0), height)


def _columns(graph) -> dict[int, int]:
    """``{node id: column}``: depth for operations, just left of the first consumer for leaves."""
    column: dict[int, int] = {}
    consumers: dict[int, list] = {}
    for node in graph.nodes:  # creation order: inputs first
        for source in node.inputs:
            consumers.setdefault(source.id, []).append(node)
        column[node.id] = 1 + max((column[s.id] for s in node.inputs), default=-1)
    for node in graph.nodes:
        if not node.inputs and node.id in consumers:
            column[node.id] = max(0, min(column[c.id] for c in consumers[node.id]) - 1)
    return column


def _layout(graph) -> tuple[list[_Card], float, float]:
    """The cards in the graph's node order, placed; and the drawing's width and height."""
    cards = {node.id: _card(node, graph.labels[node.id]) for node in graph.nodes}
    column = _columns(graph)
    by_column: dict[int, list[_Card]] = {}
    for node in graph.nodes:
        by_column.setdefault(column[node.id], []).append(cards[node.id])
    x, height = float(_MARGIN), 0.0
    for c in sorted(by_column):
        y = float(_MARGIN + _LEGEND)
        for card in by_column[c]:
            card.x, card.y = x, y
            y += card.height + _ROW_GAP
        height = max(height, y)
        x += max(card.width for card in by_column[c]) + _COLUMN_GAP
    return list(cards.values()), x - _COLUMN_GAP + _MARGIN, height + _MARGIN - _ROW_GAP


def _edge(source: _Card, target: _Card, slot: int, slots: int, arrow: str) -> str:
    x1, y1 = source.x + source.width, source.y + source.height / 2
    x2, y2 = target.x, target.y + target.height * (slot + 1) / (slots + 1)
    bend = max(20.0, (x2 - x1) / 2)
    return (f'<path d="M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}" '
            f'class="edge" marker-end="url(#{arrow})"/>')


def _card_svg(card: _Card, element_id: str) -> list[str]:
    off_path = card.node.grad is None
    out = [f'<g class="node" id="{element_id}">',
           f'<rect x="{card.x:.1f}" y="{card.y:.1f}" width="{card.width:.1f}" height="{card.height:.1f}" '
           f'rx="6" class="{"card off" if off_path else "card"}"/>']
    y = card.y + _PAD
    for text, kind in card.lines:
        if kind == "rule":
            # the gradient's own band below the rule: told apart from the value without colour
            band = card.y + card.height - (y + 3) - 1.5  # stops short of the card's border
            out.append(f'<rect x="{card.x + 1:.1f}" y="{y + 3:.1f}" width="{card.width - 2:.1f}" height="{band:.1f}" '
                       'class="band"/>')
            out.append(f'<line x1="{card.x:.1f}" y1="{y + 3:.1f}" x2="{card.x + card.width:.1f}" y2="{y + 3:.1f}" '
                       'class="rule"/>')
            y += 6
            continue
        out.append(f'<text x="{card.x + _PAD:.1f}" y="{y + _LINE - 4:.1f}" class="{kind}">{escape(text)}</text>')
        y += _LINE
    out.append("</g>")
    return out


# every rule under the root's class: a drawing inlined in an HTML page styles only itself
_STYLE = f"""
.refnn-graph text {{ font-family: 'DejaVu Sans Mono', Menlo, Consolas, monospace; font-size: {_FONT_SIZE}px;
  white-space: pre; }}
.refnn-graph .title {{ font-weight: bold; fill: #111; }}
.refnn-graph .op {{ fill: #555; }}
.refnn-graph .value {{ fill: {VALUE_COLOUR}; }}
.refnn-graph .grad {{ fill: {GRADIENT_COLOUR}; }}
.refnn-graph .card {{ fill: #fdfdfd; stroke: #444; stroke-width: 1.2; }}
.refnn-graph .card.off {{ stroke-dasharray: 5 3; fill: #f4f4f4; }}
.refnn-graph .band {{ fill: #fbeeec; }}
.refnn-graph .rule {{ stroke: #bbb; stroke-width: 1; }}
.refnn-graph .edge {{ fill: none; stroke: #666; stroke-width: 1.4; }}
.refnn-graph .heading {{ font-size: 15px; font-weight: bold; fill: #111; }}
"""

_LEGEND_ITEMS = [("value", "green: forward value"), ("grad", "red, shaded: gradient ∂L/∂node (backward)"),
                 ("op", "dashed: no gradient (data, or L does not depend on it)")]
_LEGEND_GAP = 30.0


def _legend(title: str | None) -> tuple[list[str], float]:
    """The heading and the legend line; and the width they need."""
    y = _MARGIN + 14
    out = [f'<text x="{_MARGIN}" y="{y}" class="heading">{escape(title or "computation graph")}</text>']
    x = float(_MARGIN)
    for kind, text in _LEGEND_ITEMS:
        out.append(f'<text x="{x:.1f}" y="{y + 22}" class="{kind}">{escape(text)}</text>')
        x += len(text) * _CHAR_WIDTH + _LEGEND_GAP
    heading_width = _MARGIN + len(title or "computation graph") * 9.0
    return out, max(x - _LEGEND_GAP + _MARGIN, heading_width + _MARGIN)


def render_svg(graph, id_prefix: str = "") -> str:
    """A standalone SVG document of ``graph`` (see the module docstring for the layout); element
    ids start with ``id_prefix``."""
    cards, width, height = _layout(graph)
    legend, legend_width = _legend(graph.title)
    width = max(width, legend_width)
    by_id = {card.node.id: card for card in cards}
    arrow = f"{id_prefix}arrow"
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        'width="100%" role="img" class="refnn-graph">',  # scales to the window: it fits one screen
        f"<title>{escape(graph.title or 'computation graph')}</title>",
        f"<defs><marker id=\"{arrow}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
        "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#666\"/></marker>"
        f"<style>{_STYLE}</style></defs>",
        '<rect width="100%" height="100%" fill="white"/>',
        *legend,
    ]
    for node in graph.nodes:
        for slot, source in enumerate(node.inputs):
            parts.append(_edge(by_id[source.id], by_id[node.id], slot, len(node.inputs), arrow))
    for index, card in enumerate(cards):  # ids by place in the graph: the same every run
        parts += _card_svg(card, f"{id_prefix}node-{index}")
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _dot_label(node, label: str) -> str:
    """An HTML-like Graphviz label: name, operation and shape, value (green), gradient (red)."""
    def rows(lines):
        return '<BR ALIGN="LEFT"/>'.join(escape(text) for text in lines)

    grad = ["∂L " + t for t in array_lines(node.grad)] if node.grad is not None else ["no gradient"]
    return (f"<<B>{escape(label)}</B><BR/>{escape(node_caption(node))} {node.shape}<BR/>"
            f'<FONT COLOR="{VALUE_COLOUR}">{rows(array_lines(node.value))}</FONT><BR/>'
            f'<FONT COLOR="{GRADIENT_COLOUR}">{rows(grad)}</FONT>>')


def render_dot(graph) -> str:
    """``graph`` in Graphviz's DOT language, left to right, values in green and gradients in red."""
    lines = ["digraph computation {", "  rankdir=LR;",
             '  node [shape=box, style=rounded, fontname="DejaVu Sans Mono", fontsize=11];']
    if graph.title:
        title = graph.title.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'  label="{title}"; labelloc=t;')
    index = {node.id: i for i, node in enumerate(graph.nodes)}  # names that are the same every run
    for node in graph.nodes:
        lines.append(f"  n{index[node.id]} [label={_dot_label(node, graph.labels[node.id])}];")
    for node in graph.nodes:
        for source in node.inputs:
            lines.append(f"  n{index[source.id]} -> n{index[node.id]};")
    lines.append("}")
    return "\n".join(lines) + "\n"
