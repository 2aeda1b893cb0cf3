"""Study: where the textbook formulas and Keras differ, and by how much — measured live.

Each item runs the textbook form with refnn's named convention flags (``SGD(momentum_form="ema")``,
``optimizers.get("rmsprop", convention="textbook")``, ``Adam(epsilon_placement="sqrt_v_hat")``) or
the textbook formula in NumPy, and the Keras form in Keras/TensorFlow itself. Each also checks that
refnn's Keras form agrees with the live Keras numbers of the same experiment
(``docs/keras-numerics.md`` lists the expected sizes). One module per item, each a ``measure()``
(the numbers, tested) and a ``render(section, data)`` (text, table, figure):

1. ``momentum``: the EMA ``V ← βV + (1−β)g; W −= lr·V`` vs Keras's velocity ``m ← μm − lr·g;
   W += m``: Keras's step is 1/(1−β) = 10× larger at every step at a constant lr; with
   ``lr·(1−β)`` they agree — until the learning rate changes.
2. ``rmsprop``: the textbook β = 0.999 with ε outside √ vs Keras's ρ = 0.9 with ε inside √: 10×
   larger first steps; and the floor √ε = 3.2e-4 under Keras's denominator for small gradients.
3. ``adam``: ε on √v (Keras's ε̂) vs on √v̂ (Algorithm 1): the relative step difference against
   |g|, t = 1 and 1000.
4. ``mse``: the derivative ``2/n·(ŷ − y)`` with n = samples vs Keras's ``2(ŷ − y)/(N·D)``.
5. ``bce``: the derivative on probabilities in float32: σ(20) rounds to 1 and the textbook gradient
   vanishes; Keras differentiates from the logits.
6. ``softmax``: the derivative written ``f(1 − f)`` (diagonal only) vs the full Jacobian; and the
   CCE derivative ``−y/ŷ`` vs Keras's renormalised ``−y/ŷ + 1/N``.
7. ``l2``: the textbook ``λ/2·‖w‖²`` vs Keras's ``l2·Σw²``.
8. ``schedules``: a staircase schedule's ``⌊step/decay_steps⌋`` vs what Keras's compiled ``fit``
   computes, ``⌊step × float32(1/decay_steps)⌋`` — a decay step comes one step late.
"""

from __future__ import annotations

import time

from comparisons.conventions import adam, bce, l2, momentum, mse, rmsprop, schedules, softmax
from comparisons.report import Progress, Section

__all__ = ["ITEMS", "run"]

#: the items in the report's order
ITEMS = {"momentum": momentum, "rmsprop": rmsprop, "adam": adam, "mse": mse, "bce": bce,
         "softmax": softmax, "l2": l2, "schedules": schedules}


def _measure(name: str, quick: bool, seed: int) -> dict:
    if name in ("momentum", "mse", "l2"):
        return ITEMS[name].measure(seed=seed)
    if name == "rmsprop":  # the textbook β = 0.999 needs ~20 000 steps to settle (5 000: within 0.3 %)
        return rmsprop.measure(textbook_steps=5000 if quick else 20000)
    return ITEMS[name].measure()


def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    """Every item; ``quick`` shortens the RMSprop textbook run."""
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("conventions", len(ITEMS))
    section = Section("conventions", "Textbook vs Keras: the conventions, measured")
    section.add(
        f"The textbook formulas and Keras compute different things in {len(ITEMS)} places. Each item runs "
        "the textbook form with refnn's named convention flags (or the formula in NumPy) and the "
        "Keras form in Keras/TensorFlow itself, in float64 unless stated; each also checks that "
        "refnn's Keras form reproduces the live Keras numbers of the same experiment.")
    for name, item in ITEMS.items():
        data = section.data[name] = _measure(name, quick, seed)
        progress.step(name)
        item.render(section, data)
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section
