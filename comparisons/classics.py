"""Study: the classic full-batch algorithms on the problems they were published with (refnn alone).

Keras has none of them; this study sets refnn's ``Rprop`` (four variants), ``Quickprop`` and
``LevenbergMarquardt`` beside plain gradient descent on the benchmark problems of
``docs/algorithms.md``, full batch, over several seeds:

* **10-5-10 encoder** (Riedmiller & Braun 1993; Fahlman 1988): ten one-hot patterns reproduced
  through 5 hidden units; logistic hidden and output units with biases, weights U[−1, 1], the
  summed error ``E = ½·ΣΣ(ŷ − y)²`` (refnn's ``"sse"`` loss); learned when every output is within
  0.4 of its 0/1 target (the "40-20-40" criterion). Reported: epochs to the criterion — mean,
  median, range — and the runs that did not reach it within the cap (the CMU benchmark
  convention). Published values are **recalled, unverified** (the original tables were not
  available; see ``docs/algorithms.md``).
* **1-15-1 sine** (Hagan & Menhaj 1994): ``t = ½ + ¼·sin(3πp)``, 40 points on [−1, 1], tanh hidden
  units and a linear output, trained until the sum of squared errors ``Σe² < 0.02``. The hidden
  layer's weights and biases are drawn from U[−3, 3] so that the 15 units spread over [−1, 1] (the
  role of MATLAB's Nguyen–Widrow initialisation), the output layer's from U[−0.5, 0.5].
  Levenberg–Marquardt with trainlm's defaults against iRprop+ and gradient descent. The paper's
  numbers were not recovered; only its qualitative result (LM needs one to two orders of
  magnitude fewer epochs on networks of this size) is quoted.
"""

from __future__ import annotations

import time

import numpy as np

import refnn
from comparisons import datasets
from comparisons.report import Finding, Heading, Panel, Plot, Progress, Section, Series, Table, fmt_num
from refnn import initializers, layers, optimizers

__all__ = ["ENCODER_METHODS", "SINE_METHODS", "encoder_run", "sine_run", "measure", "render", "run"]

#: label → (factory, published value [recalled, unverified] or None)
ENCODER_METHODS = {
    "gradient descent ε = 1.9": (lambda: optimizers.SGD(1.9), "~121 epochs (BP, ε = 1.9)"),
    "Rprop+ Δ₀ = 2": (lambda: optimizers.Rprop("rprop+", learning_rate=2.0), "~19 epochs (RPROP, Δ₀ = 2.0)"),
    "Rprop− Δ₀ = 2": (lambda: optimizers.Rprop("rprop-", learning_rate=2.0), None),
    "iRprop+ Δ₀ = 2": (lambda: optimizers.Rprop("irprop+", learning_rate=2.0), None),
    "iRprop− Δ₀ = 2": (lambda: optimizers.Rprop("irprop-", learning_rate=2.0), None),
    "Quickprop ε = 1.5, μ = 1.75": (lambda: optimizers.Quickprop(1.5, max_growth=1.75),
                                    "~21 epochs (Quickprop, ε = 1.5, μ = 1.75)"),
}
SINE_METHODS = {
    "Levenberg–Marquardt (trainlm defaults)": lambda: optimizers.LevenbergMarquardt(),
    "iRprop+ Δ₀ = 0.01": lambda: optimizers.Rprop("irprop+", learning_rate=0.01),
    "gradient descent lr = 0.005, momentum 0.9": lambda: optimizers.SGD(0.005, momentum=0.9),
    "gradient descent lr = 0.005": lambda: optimizers.SGD(0.005),
}
SINE_GOAL = 0.02
ENCODER_SOURCE = "Riedmiller & Braun 1993, recalled, unverified"


def _train_until(model, x, y, reached, cap: int):
    """Full-batch epochs until ``reached(prediction)``; returns (epochs or None, error curve,
    seconds). The curve holds ``Σ(ŷ − y)²`` before each epoch."""
    curve = []
    start = time.perf_counter()
    for epoch in range(cap + 1):
        pred = model.predict(x)
        curve.append(float(np.sum((pred - y) ** 2)))
        if reached(pred):
            return epoch, curve, time.perf_counter() - start
        if epoch == cap or model.stop_training or not np.isfinite(curve[-1]):
            break
        model.train_step(x, y)
    return None, curve, time.perf_counter() - start


def _summary(epochs: list) -> dict:
    ok = [e for e in epochs if e is not None]
    return {"epochs": epochs, "converged": len(ok), "runs": len(epochs),
            "mean": float(np.mean(ok)) if ok else None, "median": float(np.median(ok)) if ok else None,
            "min": min(ok) if ok else None, "max": max(ok) if ok else None}


def _median_curve(epochs: list, curves: list) -> list:
    """The curve of the run whose epoch count is the median of the converged runs (else run 0)."""
    ok = [(e, i) for i, e in enumerate(epochs) if e is not None]
    if not ok:
        return curves[0]
    ok.sort()
    return curves[ok[(len(ok) - 1) // 2][1]]


def encoder_model(seed: int, optimizer) -> refnn.Sequential:
    uniform = lambda: initializers.RandomUniform(-1.0, 1.0)  # noqa: E731  (drawn from the model's seed)
    model = refnn.Sequential([
        layers.Dense(5, activation="sigmoid", kernel_initializer=uniform(), bias_initializer=uniform()),
        layers.Dense(10, activation="sigmoid", kernel_initializer=uniform(), bias_initializer=uniform()),
    ], input_dim=10, seed=seed)
    model.compile(optimizer=optimizer, loss="sse")
    return model


def encoder_run(seeds: int = 20, cap: int = 1000, progress: Progress | None = None, first_seed: int = 0) -> dict:
    """Epochs to the 40-20-40 criterion for every method and seed (``first_seed``, ``+1``, …)."""
    x, y = datasets.encoder(10)
    reached = lambda pred: bool(np.all(np.abs(pred - y) < 0.4))  # noqa: E731
    out = {}
    for label, (factory, _) in ENCODER_METHODS.items():
        runs = [_train_until(encoder_model(seed, factory()), x, y, reached, cap)
                for seed in range(first_seed, first_seed + seeds)]
        epochs = [r[0] for r in runs]
        out[label] = {**_summary(epochs), "curve": [0.5 * v for v in _median_curve(epochs, [r[1] for r in runs])],
                      "seconds": float(np.mean([r[2] for r in runs]))}
        if progress:
            progress.step(label)
    return {"seeds": seeds, "cap": cap, "methods": out}


def sine_model(seed: int, optimizer) -> refnn.Sequential:
    spread = lambda: initializers.RandomUniform(-3.0, 3.0)  # noqa: E731
    small = lambda: initializers.RandomUniform(-0.5, 0.5)  # noqa: E731
    model = refnn.Sequential([
        layers.Dense(15, activation="tanh", kernel_initializer=spread(), bias_initializer=spread()),
        layers.Dense(1, kernel_initializer=small(), bias_initializer=small()),
    ], input_dim=1, seed=seed)
    model.compile(optimizer=optimizer, loss="sse")
    return model


def sine_run(seeds: int = 10, cap: int = 2000, progress: Progress | None = None, first_seed: int = 0) -> dict:
    """Epochs until ``Σe² < 0.02`` on the 1-15-1 sine problem for every method and seed
    (``first_seed``, ``+1``, …)."""
    x, y = datasets.sine_problem(40)
    reached = lambda pred: float(np.sum((pred - y) ** 2)) < SINE_GOAL  # noqa: E731
    out = {}
    fit = None
    for label, factory in SINE_METHODS.items():
        limit = 200 if "Marquardt" in label else cap
        runs, models = [], []
        for seed in range(first_seed, first_seed + seeds):
            model = sine_model(seed, factory())
            runs.append(_train_until(model, x, y, reached, limit))
            models.append(model)
        epochs = [r[0] for r in runs]
        out[label] = {**_summary(epochs), "cap": limit, "curve": _median_curve(epochs, [r[1] for r in runs]),
                      "final_sse": [r[1][-1] for r in runs], "seconds": float(np.mean([r[2] for r in runs]))}
        if fit is None:  # the first method's (LM's) fit of the first seed
            grid = np.linspace(-1, 1, 200).reshape(-1, 1)
            fit = {"p": grid.ravel().tolist(), "lm": models[0].predict(grid).ravel().tolist(),
                   "target": (0.5 + 0.25 * np.sin(3 * np.pi * grid)).ravel().tolist()}
        if progress:
            progress.step(label)
    return {"seeds": seeds, "cap": cap, "goal": SINE_GOAL, "methods": out, "fit": fit}


def _count(value) -> str:
    """An epoch count or an average of counts: ``17``, ``16.9``, ``1610``; ``—`` for None."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _short(label: str) -> str:
    first = label.split(" ")[0]
    return "GD" if first == "gradient" else first


def _range(s: dict) -> str:
    return "—" if s["min"] is None else f"{s['min']}–{s['max']}"


def measure(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> dict:
    """Both problems: 20 (5 with ``quick``) encoder seeds, 10 (3) sine seeds, counted from ``seed``;
    every method sees the same initial weights."""
    return {"encoder": encoder_run(5 if quick else 20, 500 if quick else 1000, progress, seed),
            "sine": sine_run(3 if quick else 10, 1000 if quick else 2000, progress, seed)}


def render(section: Section, measured: dict) -> None:
    section.add(
        "Rprop, Quickprop and Levenberg–Marquardt are full-batch methods Keras does not have (the "
        "bridge provides Keras plugins for them, compared step by step in the optimizers study). "
        "Here refnn runs them on the benchmark problems of their papers. **The published numbers "
        "are recalled, unverified**: the original tables were not available (docs/algorithms.md).")
    _render_encoder(section, measured["encoder"])
    _render_sine(section, measured["sine"])


def _render_encoder(section: Section, enc: dict) -> None:
    rows = []
    for label, s in enc["methods"].items():
        published = ENCODER_METHODS[label][1]
        rows.append([label, _count(s["mean"]), _count(s["median"]), _range(s),
                     f"{s['runs'] - s['converged']} of {s['runs']}",
                     f"{published} [{ENCODER_SOURCE}]" if published else "—"])
        if published:
            section.findings.append(Finding(
                f"10-5-10 encoder, {label}: epochs to 40-20-40",
                f"mean {_count(s['mean'])}, median {_count(s['median'])} "
                f"({s['runs'] - s['converged']} of {s['runs']} runs not converged)",
                f"{published} — recalled, unverified"))
    short = [_short(k) for k in enc["methods"]]
    section.add(
        Heading("10-5-10 encoder: epochs to the 40-20-40 criterion"),
        "Logistic units, biases, weights U[−1, 1], E = ½ΣΣ(ŷ − y)² summed over the 10 patterns (the "
        "scale Riedmiller's ε and Δ₀ assume), one update per epoch. A run that is not learned after "
        f"{enc['cap']} epochs counts as not converged; the mean and median are over the converged runs. "
        "With Δ₀ = 2 and Δmax = 50 some Rprop runs drive sigmoids into saturation and stall on a flat "
        "spot (outputs stuck at exactly the wrong 0/1); Riedmiller's default Δ₀ = 0.1 is slower but "
        "steadier. Igel & Hüsken (2003) report, qualitatively, iRprop+ ≤ Rprop+ ≈ iRprop− ≤ Rprop− in "
        "epochs on their problems.",
        Table(["method", "mean epochs", "median", "range", "not converged", "published"], rows,
              f"{enc['seeds']} seeds (the same initial weights for every method)."),
        Plot("classics_encoder", "10-5-10 encoder. Left: E = ½ΣΣe² per epoch of the median run of each "
             "method (after each epoch). Right: mean epochs to the criterion, beside the recalled published values.", [
                 Panel("median run per method", "epoch", "E = ½ΣΣ(ŷ − y)²", [
                     Series(label, list(range(1, len(s["curve"]))), s["curve"][1:])
                     for label, s in enc["methods"].items()],
                     xscale="log", yscale="log"),
                 Panel("epochs to 40-20-40", "", "epochs", [
                     Series("refnn, mean", short, [s["mean"] or 0.0 for s in enc["methods"].values()]),
                     Series("published (recalled, unverified)", short,
                            [float(ENCODER_METHODS[k][1].split()[0].strip("~")) if ENCODER_METHODS[k][1] else 0.0
                             for k in enc["methods"]])], kind="bar")]))


def _render_sine(section: Section, sine: dict) -> None:
    rows = [[label, _count(s["median"]), _range(s), f"{s['converged']} of {s['runs']}", f"{s['cap']}",
             fmt_num(float(np.median(s["final_sse"])), 3), f"{1e3 * s['seconds']:.0f}"]
            for label, s in sine["methods"].items()]
    lm = sine["methods"]["Levenberg–Marquardt (trainlm defaults)"]
    gd = sine["methods"]["gradient descent lr = 0.005, momentum 0.9"]
    section.findings.append(Finding(
        "1-15-1 sine, Levenberg–Marquardt vs gradient descent with momentum: epochs to Σe² < 0.02",
        f"LM median {_count(lm['median'])} ({lm['converged']}/{lm['runs']} runs); gradient descent + "
        f"momentum median {_count(gd['median'])} ({gd['converged']}/{gd['runs']})",
        "LM one to two orders of magnitude fewer epochs (Hagan & Menhaj 1994; numbers not recovered)"))
    section.add(
        Heading("1-15-1 sine (Hagan & Menhaj): epochs to Σe² < 0.02"),
        "40 points of t = ½ + ¼·sin(3πp), tanh hidden units, linear output, full batch. Levenberg–"
        "Marquardt with μ = 1e-3, ×0.1 after an accepted step, ×10 after a rejected one (MATLAB "
        "trainlm's defaults); gradient descent on E = ½Σe² (its lr would be 40× smaller on the mean). "
        "An LM epoch solves one P×P system (P = 46 weights) per try, so it costs more than a "
        "gradient step — but it needs far fewer.",
        Table(["method", "median epochs", "range", "reached the goal", "epoch cap", "median final Σe²",
               "ms per run"], rows, f"{sine['seeds']} seeds."),
        Plot("classics_sine", "1-15-1 sine. Left: Σe² per epoch of the median run (goal dotted). Right: "
             "the target and Levenberg–Marquardt's fit (first seed).", [
                 Panel("median run per method", "epoch", "Σ(ŷ − t)²", [
                     Series(label, list(range(1, len(s["curve"]))), s["curve"][1:])
                     for label, s in sine["methods"].items()], xscale="log", yscale="log",
                       hlines=[(SINE_GOAL, "goal 0.02")]),
                 Panel("fit", "p", "t", [
                     Series("target ½ + ¼·sin(3πp)", sine["fit"]["p"], sine["fit"]["target"], "-"),
                     Series("Levenberg–Marquardt", sine["fit"]["p"], sine["fit"]["lm"], "--")])]))


def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("classics", len(ENCODER_METHODS) + len(SINE_METHODS))
    section = Section("classics", "Classic algorithms on their published problems (refnn alone)")
    section.data = measure(quick, seed, progress)
    render(section, section.data)
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section
