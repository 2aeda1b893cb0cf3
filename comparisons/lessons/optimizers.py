"""Optimizers: SGD, momentum (both forms), RMSprop, Adam, Adagrad and Rprop, path by path.

Each optimizer walks two 2-D surfaces (``optimizer_paths``: an ill-conditioned quadratic and
Rosenbrock's valley) from a fixed start, in refnn and — an independent run — in Keras, then trains
the same small network on a bundled data set (``keras_bridge.compare.training``). The rules, with
``g = ∇f(w)``, ``η`` the learning rate, every operation element by element::

    SGD        w ← w − η g
    momentum   textbook (EMA):  V ← μV + (1 − μ) g;   w ← w − η_ema V
               Keras (velocity): v ← μv − η_keras g;  w ← w + v        same path iff η_keras = η_ema (1 − μ)
    RMSprop    s ← ρs + (1 − ρ) g²;   Keras: w ← w − η g / √(s + ε)      textbook: w ← w − η g / (√s + ε)
    Adam       m ← β₁m + (1 − β₁) g;  v ← β₂v + (1 − β₂) g²;  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)
               Keras: w ← w − η m̂ / (√v̂ + ε/√(1 − β₂ᵗ))          textbook: w ← w − η m̂ / (√v̂ + ε)
    Adagrad    G ← G + g² (Keras G₀ = 0.1, textbook 0);  Keras: w ← w − η g / √(G + ε)   textbook: / (√G + ε)
    Rprop      Δ ← min(Δη⁺, Δmax) if g·g_prev > 0, max(Δη⁻, Δmin) if < 0;   w ← w − sign(g) Δ
               (iRprop+: on a flip store g = 0, and undo the last step only if f went up)

The optimizers come from ``refnn.optimizers.get``: SGD and momentum from the *textbook* presets
with the lesson's hyper-parameters (``get("momentum", convention="textbook", learning_rate=0.1)``
is the EMA form with μ = 0.9), RMSprop, Adam and Adagrad from Keras's presets (their Keras twins
are then Keras's own optimizers, an independent check; the textbook presets' twins would be
refnn's port), Rprop from Riedmiller's defaults with the iRprop+ variant.
"""

from __future__ import annotations

import time

from comparisons.lessons import optimizer_paths as paths
from refnn import optimizers
from refnn.utils.tolerance import TOLERANCES
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "SURFACES", "ORDER", "COLORS", "PATH_PRESETS", "TRAINING_PRESETS", "STEPS", "EPOCHS",
           "preset", "measure", "section"]

TITLE = "Optimizers: SGD, momentum, RMSprop, Adam, Adagrad, Rprop"
SURFACES = (paths.QUADRATIC, paths.ROSENBROCK)
ORDER = ("SGD", "momentum", "RMSprop", "Adam", "Adagrad", "Rprop")
COLORS = {"SGD": "tab:blue", "momentum": "tab:orange", "RMSprop": "tab:green", "Adam": "tab:red",
          "Adagrad": "tab:purple", "Rprop": "tab:brown"}
#: label → (convention, name, hyper-parameters) per surface: rates that give a visible path in the
#: steps shown (SGD on the quadratic just below its limit 2/b = 0.1, so it zig-zags)
PATH_PRESETS = {
    "quadratic": {
        "SGD": ("textbook", "sgd", {"learning_rate": 0.09}),
        "momentum": ("textbook", "momentum", {"learning_rate": 0.1}),
        "RMSprop": ("keras", "rmsprop", {"learning_rate": 0.3}),
        "Adam": ("keras", "adam", {"learning_rate": 0.5}),
        "Adagrad": ("keras", "adagrad", {"learning_rate": 2.0}),
        "Rprop": ("textbook", "rprop", {"variant": "irprop+", "learning_rate": 0.5}),
    },
    "rosenbrock": {
        "SGD": ("textbook", "sgd", {"learning_rate": 0.002}),
        "momentum": ("textbook", "momentum", {"learning_rate": 0.01}),
        "RMSprop": ("keras", "rmsprop", {"learning_rate": 0.02}),
        "Adam": ("keras", "adam", {"learning_rate": 0.2}),
        "Adagrad": ("keras", "adagrad", {"learning_rate": 1.0}),
        "Rprop": ("textbook", "rprop", {"variant": "irprop+", "learning_rate": 0.1}),
    },
}
TRAINING_PRESETS = {
    "SGD": ("textbook", "sgd", {"learning_rate": 0.15}),
    "momentum": ("textbook", "momentum", {"learning_rate": 0.3}),
    "RMSprop": ("keras", "rmsprop", {"learning_rate": 0.01}),
    "Adam": ("keras", "adam", {"learning_rate": 0.02}),
    "Adagrad": ("keras", "adagrad", {"learning_rate": 0.1}),
    "Rprop": ("textbook", "rprop", {"variant": "irprop+", "learning_rate": 0.01}),
}
#: steps per surface and epochs of the network: (default, quick)
STEPS = {"quadratic": (100, 40), "rosenbrock": (300, 100)}
EPOCHS = (100, 15)
#: the network: full batch (Rprop needs the whole training set's gradient), a regression target
#: that cannot be fitted exactly (on separable data Rprop grows the weights until the outputs
#: saturate, and its sign tests then decide on rounding noise)
DATASET, HIDDEN = "diabetes", 16
#: textbook presets shown beside Keras's, with the learning rate each lesson run uses
PRESETS_SHOWN = (("sgd", {"learning_rate": 0.1, "momentum": 0.9}), ("momentum", {"learning_rate": 0.1}),
                 ("rmsprop", {"learning_rate": 0.01}), ("adam", {"learning_rate": 0.01}),
                 ("adagrad", {"learning_rate": 0.1}), ("rprop", {"variant": "irprop+"}))


def call_text(convention: str, name: str, overrides: dict) -> str:
    """The ``optimizers.get`` call that builds a preset, as a reader would type it."""
    args = [repr(name)] + ([f"convention={convention!r}"] if convention != "keras" else [])
    args += [f"{k}={v!r}" for k, v in overrides.items()]
    return f"get({', '.join(args)})"


def preset(spec: tuple) -> optimizers.Optimizer:
    """A fresh refnn optimizer from ``(convention, name, hyper-parameters)``."""
    convention, name, overrides = spec
    return optimizers.get(name, convention=convention, **overrides)


def _surface_runs(surface, quick: bool) -> dict:
    """Every optimizer's refnn and Keras paths on one surface."""
    steps = STEPS[surface.key][quick]
    runs = {}
    for label in ORDER:
        spec = PATH_PRESETS[surface.key][label]
        runs[label] = {"call": call_text(*spec), "hyper": dict(spec[2]), "color": COLORS[label],
                       "ported": label == "Rprop", **paths.compare_paths(preset(spec), surface, steps)}
    return {**surface.to_dict(), "steps": steps, "runs": runs}


def _momentum_forms(quadratic: dict) -> dict:
    """The EMA form at η against Keras's velocity form at η(1 − μ) (the quadratic's momentum run)
    and at the same η (refnn's velocity form beside it, for the agreement)."""
    import keras

    from keras_bridge import floatx

    convention, name, overrides = PATH_PRESETS["quadratic"]["momentum"]
    ema = preset((convention, name, overrides))
    eta, mu = ema.learning_rate, ema.momentum
    mapped = quadratic["runs"]["momentum"]
    velocity = optimizers.get("momentum", learning_rate=eta)  # Keras's form, the same η
    with floatx("float64"):
        naive_twin = keras.optimizers.SGD(learning_rate=eta, momentum=mu)
    naive = paths.compare_paths(velocity, paths.QUADRATIC, quadratic["steps"], keras_optimizer=naive_twin)
    ema_path = mapped["refnn"]["path"]
    return {
        "eta": eta, "mu": mu, "eta_keras": mapped["keras_learning_rate"],
        "call_ema": call_text(convention, name, overrides),
        "call_velocity": call_text("keras", "momentum", {"learning_rate": eta}),
        "ema": mapped["refnn"], "mapped": mapped["keras"], "mapped_max_rel": mapped["max_rel"],
        "velocity": naive["refnn"], "naive": naive["keras"], "velocity_max_rel": naive["max_rel"],
        "distance_mapped": _distances(ema_path, mapped["keras"]["path"]),
        "distance_naive": _distances(ema_path, naive["keras"]["path"]),
        "distance_velocity": _distances(naive["refnn"]["path"], naive["keras"]["path"]),
    }


def _distances(a: list, b: list) -> list[float]:
    """‖a_t − b_t‖ step by step."""
    return [float(((p - q) ** 2 + (r - s) ** 2) ** 0.5) for (p, r), (q, s) in zip(a, b)]


def _training_runs(quick: bool, seed: int) -> dict:
    """The network trained by each optimizer in refnn and Keras (full batch, the same weights)."""
    import refnn
    from comparisons import datasets
    from keras_bridge import compare
    from refnn import layers

    data = datasets.load(DATASET, "float64", seed)
    epochs, rows = EPOCHS[quick], int(data.x_train.shape[0])
    runs = {}
    for label in ORDER:
        model = refnn.Sequential([layers.Dense(HIDDEN, activation="tanh"), layers.Dense(1)],
                                 input_dim=data.n_features, seed=seed, dtype="float64")
        model.compile(optimizer=preset(TRAINING_PRESETS[label]), loss="mse")
        result = compare.training(model, data.x_train, data.y_train, epochs=epochs, batch_size=rows, shuffle=False)
        runs[label] = {"call": call_text(*TRAINING_PRESETS[label]), "color": COLORS[label],
                       "ported": label == "Rprop", "refnn": [float(v) for v in result.refnn_history["loss"]],
                       "keras": [float(v) for v in result.keras_history["loss"]],
                       "max_rel": float(result.max_rel), "passed": bool(result.passed)}
    return {"dataset": DATASET, "description": data.description, "rows": rows, "features": data.n_features,
            "hidden": HIDDEN, "epochs": epochs, "runs": runs}


def _presets_shown() -> list[list[str]]:
    """``[get call, its textbook preset, Keras's preset with the same overrides]`` rows (reprs)."""
    rows = []
    for name, overrides in PRESETS_SHOWN:
        rows.append([call_text("textbook", name, overrides), repr(optimizers.get(name, "textbook", **overrides)),
                     repr(optimizers.get(name, **overrides))])
    return rows


def measure(quick: bool = False, seed: int = 0) -> dict:
    """The paths on both surfaces, the two momentum forms, the training curves; float64.

    ``quick``: 40 and 100 steps on the surfaces (else 100 and 300), 15 epochs (else 100).
    ``seed``: the network's initial weights and the data split (the paths have nothing random).
    """
    check_non_negative_int("seed", seed)
    start = time.perf_counter()
    surfaces = {s.key: _surface_runs(s, quick) for s in SURFACES}
    return {
        "quick": quick, "seed": seed, "order": list(ORDER),
        "tolerance": {"paths": TOLERANCES["optimizer"]["float64"], "training": TOLERANCES["training"]["float64"]},
        "surfaces": surfaces, "momentum": _momentum_forms(surfaces["quadratic"]),
        "training": _training_runs(quick, seed), "presets": _presets_shown(),
        "seconds": time.perf_counter() - start,
    }


def section(measured: dict):
    """The lesson's ``Section`` (``comparisons.lessons.optimizers_page``)."""
    from comparisons.lessons.optimizers_page import render

    return render(measured, TITLE)
