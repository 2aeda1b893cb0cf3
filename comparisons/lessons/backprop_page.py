"""``refnn-compare lesson backprop``: the dense-layer walk-through as a terminal table and a page.

The page (``index.html``) is self-contained: the computation graph's SVG is inline, the CSS too,
no script, nothing fetched. ``graph.svg`` and ``walkthrough.txt`` are written beside it.
"""

from __future__ import annotations

import argparse
import html
import os
import sys

from comparisons.lessons.backprop import ACTIVATIONS, Walkthrough, measure
from comparisons.report.html_page import CSS
from refnn.graph.display import array_lines, format_number
from refnn.utils.text import format_table

__all__ = ["add_arguments", "run", "table", "page"]

_HEADERS = ("step", "quantity", "formula", "refnn", "graph", "TensorFlow", "max rel. error")


def _cells(walk: Walkthrough):
    """Per quantity: its fixed cells and the three columns of value lines."""
    for q in walk.quantities:
        columns = [array_lines(q.refnn), array_lines(q.graph),
                   array_lines(q.tensorflow) if q.tensorflow is not None else ["(not run)"]]
        yield q, columns


def table(walk: Walkthrough) -> str:
    """The walk-through as a plain-text table, matrices one row per line."""
    rows = []
    for q, columns in _cells(walk):
        for k in range(max(len(c) for c in columns)):
            first = k == 0
            rows.append((q.step if first else "", q.symbol if first else "", q.formula if first else "",
                         *(c[k] if k < len(c) else "" for c in columns),
                         format_number(q.error, 2) if first else ""))
    heading = (f"Dense(2, activation={walk.activation!r}) on a 2×3 input, MSE loss, one step of gradient descent "
               f"(η = {walk.learning_rate}); {_verdict(walk)} "
               f"(max relative error {format_number(walk.max_error, 2)}, tolerance {format_number(walk.rtol)})")
    return heading + "\n" + format_table(_HEADERS, rows)


_PAGE_CSS = """
td pre{margin:0;font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.95em}
body{max-width:1500px}td.step{font-weight:600;white-space:nowrap}
td.formula{font-family:serif;font-size:1.05em;white-space:nowrap}
tr.STEP td{background:#fff8e6}figure.graph{max-width:none;overflow-x:auto}
.lead{font-size:1.05em}
"""


def _verdict(walk: Walkthrough) -> str:
    """What agreed, naming only the sides that ran."""
    ran_tensorflow = all(q.tensorflow is not None for q in walk.quantities)
    sides = "refnn, its computation graph and TensorFlow" if ran_tensorflow else \
        "refnn and its computation graph (TensorFlow not run)"
    return f"{sides}: {'agree' if walk.passed else 'DISAGREE'}"


def _html_rows(walk: Walkthrough) -> str:
    out = []
    for q, columns in _cells(walk):
        cls = "STEP" if q.step.startswith("STEP") else ""
        values = "".join(f"<td><pre>{html.escape(chr(10).join(c))}</pre></td>" for c in columns)
        out.append(f'<tr class="{cls}"><td class="step">{html.escape(q.step)}</td><td>{html.escape(q.symbol)}</td>'
                   f'<td class="formula">{html.escape(q.formula)}</td>{values}'
                   f"<td>{format_number(q.error, 2)}</td></tr>")
    return "".join(out)


def _svg_body(svg: str) -> str:
    return svg[svg.index("<svg"):]  # inline in HTML: without the XML declaration


def page(walks: list[Walkthrough]) -> str:
    """One self-contained HTML page: for each activation, the table and the graph picture."""
    parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             "<title>Backpropagation through a dense layer</title>"
             f"<style>{CSS}{_PAGE_CSS}</style></head><body>",
             "<h1>Backpropagation through a dense layer, three ways</h1>",
             '<p class="lead">Forward: <code>Z = X W + B</code>, <code>Y = f(Z)</code>, the loss '
             "<code>E</code>. Backward, given <code>dY = ∂E/∂Y</code>: STEP 1 <code>dZ = f′(Z) ⊙ dY</code> "
             "(for softmax, each row's Jacobian), STEP 2 <code>dW = Xᵀ dZ</code>, STEP 3 <code>dB = Σ dZ</code>, "
             "and <code>dX = dZ Wᵀ</code> for the layer below. Each number is computed by refnn's layer, by "
             "refnn's computation graph (its own derivatives) and by TensorFlow's <code>GradientTape</code> "
             "(when TensorFlow runs).</p>"]
    for walk in walks:
        parts.append(f"<h2>f = {html.escape(walk.activation)}</h2>"
                     f"<p>{html.escape(_verdict(walk))}: largest relative error {format_number(walk.max_error, 2)} "
                     f"(tolerance {format_number(walk.rtol)}); learning rate η = {walk.learning_rate}.</p>")
        parts.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in _HEADERS) + "</tr></thead><tbody>"
                     + _html_rows(walk) + "</tbody></table>")
        parts.append('<figure class="graph">' + _svg_body(walk.graph.to_svg(id_prefix=f"{walk.activation}-")) +
                     "<figcaption>The computation graph of this layer and its loss: each node's value in green, "
                     "its gradient ∂E/∂node in red.</figcaption></figure>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number. Received: {text!r}")
    return value


def _non_negative_int(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a non-negative integer. Received: {text!r}")
    return int(text)


def add_arguments(parser) -> None:
    parser.add_argument("--activation", choices=[*sorted(ACTIVATIONS), "all"], default=None,
                        help="the layer's activation (default: sigmoid, then softmax for the Jacobian case)")
    parser.add_argument("--learning-rate", type=_positive_float, default=0.5, help="η of the update (default 0.5)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed of the initial weights (default 0)")
    parser.add_argument("--no-tensorflow", action="store_true", help="leave TensorFlow's column out")


def run(args, out_dir: str, stream) -> int:
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        sys.stderr.write(f"refnn-compare lesson backprop: --out must be a folder; {out_dir} is a file\n")
        return 2
    if args.activation is None:
        names = ["sigmoid", "softmax"]
    else:
        names = sorted(ACTIVATIONS) if args.activation == "all" else [args.activation]
    walks = [measure(name, args.learning_rate, args.seed, tensorflow=not args.no_tensorflow) for name in names]
    os.makedirs(out_dir, exist_ok=True)
    text = "\n\n".join(table(walk) for walk in walks)
    files = {"walkthrough.txt": text + "\n", "index.html": page(walks), "graph.svg": walks[0].graph.to_svg()}
    for name, content in files.items():
        with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
            f.write(content)
    stream.write(text + f"\n\nPage: {os.path.join(out_dir, 'index.html')}\n")
    return 0 if all(walk.passed for walk in walks) else 1
