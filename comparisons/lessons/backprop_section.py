"""The dense-layer walk-through (``comparisons.lessons.backprop``) as a section of the main report:
the formula, the table of STEP 1–3 for a sigmoid and a softmax layer (refnn's layer, refnn's
computation graph, TensorFlow's GradientTape) and the graph with its values and gradients.

``refnn-compare lesson backprop`` has a richer page of its own (``backprop_page``).
"""

from __future__ import annotations

from comparisons.lessons.backprop import measure as measure_walkthrough
from comparisons.report import LESSON, SELF, Check, Formula, Section, Svg, Table, fmt_err
from refnn.graph.display import array_lines
from refnn.utils.tolerance import relative_error

__all__ = ["TITLE", "measure", "section"]

TITLE = "Backpropagation through a dense layer: refnn, its computation graph and TensorFlow"
ACTIVATIONS = ("sigmoid", "softmax")


def _lines(value) -> list[str]:
    return ["(not run)"] if value is None else array_lines(value)


def measure(quick: bool = False, seed: int = 0) -> dict:
    """The walk-through for a sigmoid and a softmax layer: each row's formula, the three sides'
    values (as printed) and errors, the graph's SVG. The size is fixed (a 2×3 input), so ``quick``
    changes nothing."""
    walks = {}
    for activation in ACTIVATIONS:
        walk = measure_walkthrough(activation, seed=seed)
        walks[activation] = {
            "learning_rate": walk.learning_rate,
            "rtol": walk.rtol,
            "rows": [{"step": q.step, "symbol": q.symbol, "formula": q.formula,
                      "refnn": _lines(q.refnn), "graph": _lines(q.graph), "tensorflow": _lines(q.tensorflow),
                      "graph_error": relative_error(q.graph, q.refnn),
                      "tensorflow_error": None if q.tensorflow is None else relative_error(q.tensorflow, q.refnn)}
                     for q in walk.quantities],
            "svg": walk.graph.to_svg(id_prefix=f"{activation}-"),
        }
    return {"seed": seed, "walks": walks}


def _table(activation: str, walk: dict) -> Table:
    rows = [[r["step"], r["symbol"], r["formula"], " / ".join(r["refnn"]), " / ".join(r["tensorflow"]),
             fmt_err(max(e for e in (r["graph_error"], r["tensorflow_error"]) if e is not None))]
            for r in walk["rows"]]
    return Table(["step", "quantity", "formula", "refnn (rows separated by /)", "TensorFlow", "max rel. error"],
                 rows, f"Dense(2, activation={activation!r}) on a 2×3 input, MSE loss, one step of gradient descent "
                       f"(η = {walk['learning_rate']}); the graph's column equals refnn's within the error shown.")


def _worst(walk: dict, side: str) -> float:
    return max(r[f"{side}_error"] for r in walk["rows"] if r[f"{side}_error"] is not None)


def section(measured: dict) -> Section:
    """Formula, explanation, a table and a graph per activation, and the agreements as checks."""
    out = Section("lesson-backprop", TITLE, part=LESSON, data={"seed": measured["seed"]})
    out.add(Formula("forward:  Z = X W + B,   Y = f(Z),   E = loss(Y, T)\n"
                    "backward: STEP 1  dZ = f′(Z) ⊙ dY      (softmax: each row's Jacobian diag(y) − y yᵀ)\n"
                    "          STEP 2  dW = Xᵀ dZ\n"
                    "          STEP 3  dB = Σₙ dZₙ,    and dX = dZ Wᵀ for the layer below"),
            "Backpropagation is the chain rule applied node by node, from the loss back to each weight. Each "
            "number below is computed three ways: by refnn's `Dense` layer, by refnn's computation graph "
            "(`refnn.graph.trace`, each operation with its own derivative) and by TensorFlow's `GradientTape` "
            "on a `keras.layers.Dense`. `refnn-compare lesson backprop` prints the matrices in full.")
    for activation, walk in measured["walks"].items():
        out.add(_table(activation, walk),
                Svg(f"backprop_graph_{activation}",
                    f"The computation graph of Dense(2, {activation}) and its loss: each node's value (green, above "
                    "the rule) and its gradient ∂E/∂node (red, below).", walk["svg"]))
        out.checks += [
            Check(f"backprop walk-through, {activation}: refnn's layer vs TensorFlow's GradientTape",
                  {"float64": _worst(walk, "tensorflow")}, {"float64": walk["rtol"]}),
            Check(f"backprop walk-through, {activation}: refnn's layer vs refnn's computation graph",
                  {"float64": _worst(walk, "graph")}, {"float64": walk["rtol"]}, kind=SELF),
        ]
    return out
