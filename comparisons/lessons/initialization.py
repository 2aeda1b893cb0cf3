"""Initialisation: equal weights stay equal, large weights saturate, Glorot against He by layer.

Every number is computed in refnn and, for the same weights, in Keras (``keras_bridge``), float64,
on the bundled digits set (8×8 images, pixels / 16):

1. **Symmetry.** A 64-16-16-10 tanh/softmax MLP trained with SGD + momentum from three starts —
   every weight 0; every hidden weight ``c`` (the output kernel equal along each column, so the
   hidden units are interchangeable but the outputs are not tied); refnn's seeded Glorot-uniform —
   by ``keras_bridge.compare.training`` (the same batches on both sides). Measured: the spread of
   each hidden layer's units (largest difference between two units' incoming weights, bias and
   outgoing weights) in refnn's and in Keras's final weights, and the test accuracy.
2. **Saturation.** 6 tanh (sigmoid) layers of 128 units, ``W ~ N(0, σ²)`` with ``σ = g·σ_Glorot``,
   ``g ∈ {0.1, 1, 10}``, drawn from a seeded NumPy ``Generator``: each layer's activations on 256 test
   images (histogram, std, share saturated, RMS slope ``f′(z)``) and ``‖∂E/∂W‖`` per layer.
3. **Depth.** 8 ReLU (tanh) layers of 128 units with refnn's ``GlorotUniform`` or ``HeNormal``:
   the std of each layer's activations ``h_ℓ`` and of the backpropagated ``∂E/∂h_ℓ``.
4. **The initializers.** refnn's and Keras's Glorot-uniform and He-normal draws for one kernel:
   different random streams, so their statistics are compared with the formulas and with each
   other (two-sample Kolmogorov–Smirnov distance).

The formulas (textbook │ Keras)::

    Glorot  Var(W) = 2/(fan_in + fan_out),  W ~ U(−L, L), L = √(6/(fan_in + fan_out))
            │ keras.initializers.GlorotUniform
            (the harmonic mean of the forward condition 1/fan_in and the backward one 1/fan_out)
    He      Var(W) = 2/fan_in,  W ~ N(0, 2/fan_in)
            │ keras.initializers.HeNormal: truncated at ±2s, s = √(2/fan_in)/0.8796 (same variance)
    forward Var(z_{ℓ+1}) = fan_in · Var(W) · E[h_ℓ²];  ReLU: E[h²] = Var(z)/2
    symmetry  W_{·j} = W_{·k}, b_j = b_k, W'_{j·} = W'_{k·}  ⇒  h_j = h_k, ∂E/∂W_{·j} = ∂E/∂W_{·k}

Parity: each layer's activations are held to ``TOLERANCES["forward"]`` in the networks with weights at
Glorot/He scale or smaller, but to ``TOLERANCES["gradients"]`` in those with ``g > 1``: there a rounding
difference in ``h_ℓ`` reaches ``z_ℓ₊₁`` multiplied by weights of size ``g·σ_Glorot`` and grows layer by
layer (ill-conditioning), by an amount that depends on the summation order of NumPy's BLAS and oneDNN.

``measure`` returns the numbers; ``initialization_page.section`` renders them.
"""

from __future__ import annotations

import numpy as np

import refnn
from comparisons import datasets
from refnn import initializers, layers, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "measure", "section", "unit_spread", "glorot_std", "SCALES", "CONSTANT"]

TITLE = "Initialisation: symmetry, saturation, Glorot against He"
#: the symmetric start: hidden weights ``CONSTANT``, output kernel ``W_jk = v_k ~ U(−OUTPUT_SPREAD, OUTPUT_SPREAD)``
CONSTANT, OUTPUT_SPREAD = 0.05, 0.1
SYMMETRY_HIDDEN = (16, 16)
SYMMETRY_CASES = ("zeros", "constant", "random")
#: saturation: σ as a multiple of Glorot's σ = √(2/(fan_in + fan_out))
SCALES = {"small (0.1×Glorot)": 0.1, "Glorot": 1.0, "large (10×Glorot)": 10.0}
SATURATION_DEPTH, DEPTH_LAYERS, WIDTH, BATCH = 6, 8, 128, 256
#: an odd count, so that 0 (tanh) and ½ (sigmoid) are the centres of bins
HISTOGRAM_BINS, DENSITY_BINS = 41, 40
#: the share of activations counted as saturated: |f(z)| within this of the activation's bound
SATURATED_WITHIN = 0.01
BOUNDS = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0)}
#: f′(z) from f(z) = h: tanh′ = 1 − h², sigmoid′ = h (1 − h)
SLOPES = {"tanh": lambda h: 1.0 - h * h, "sigmoid": lambda h: h * (1.0 - h)}
DEPTH_INITS = {"Glorot uniform": "glorot_uniform", "He normal": "he_normal"}
KERNEL_SHAPE = (400, 200)


def glorot_std(fan_in: int, fan_out: int) -> float:
    """σ_Glorot = √(2 / (fan_in + fan_out))."""
    return float(np.sqrt(2.0 / (fan_in + fan_out)))


# ---- 1. symmetry ------------------------------------------------------------------------------------
def _symmetry_model(n_in: int, n_out: int, seed: int) -> refnn.Sequential:
    model = refnn.Sequential([layers.Dense(u, activation="tanh") for u in SYMMETRY_HIDDEN]
                             + [layers.Dense(n_out, activation="softmax")], input_dim=n_in, seed=seed)
    model.compile(optimizer=optimizers.SGD(0.1, momentum=0.9), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def symmetric_weights(model: refnn.Sequential, case: str, rng: np.random.Generator) -> list[np.ndarray]:
    """The start of a symmetry case, in ``get_weights`` order.

    ``zeros``: every weight 0. ``constant``: hidden kernels ``CONSTANT``, biases 0, the output
    kernel ``W_jk = v_k`` (``v ~ U(−OUTPUT_SPREAD, OUTPUT_SPREAD)``): equal rows keep the hidden units
    interchangeable, distinct columns keep the outputs from tying. ``random``: the model's own
    seeded Glorot-uniform draw.
    """
    weights = model.get_weights()
    if case == "random":
        return weights
    out = [np.zeros_like(w) for w in weights]
    if case == "constant":
        for i in range(0, len(out) - 2, 2):
            out[i][...] = CONSTANT
        out[-2][...] = rng.uniform(-OUTPUT_SPREAD, OUTPUT_SPREAD, out[-2].shape[1])[None, :]
    return out


def unit_spread(weights: list[np.ndarray]) -> list[float]:
    """For each hidden layer: ``max`` over its incoming weights ``W[i, ·]``, its bias and its outgoing
    weights ``W'[·, k]`` of the spread across its units (``max_j − min_j``): 0 when all its units
    are identical."""
    spreads = []
    for i in range(0, len(weights) - 2, 2):
        kernel, bias, outgoing = weights[i], weights[i + 1], weights[i + 2]
        spreads.append(float(max(np.ptp(kernel, axis=1).max(), np.ptp(bias), np.ptp(outgoing, axis=0).max())))
    return spreads


def _symmetry_case(data, case: str, epochs: int, seed: int) -> dict:
    from keras_bridge import compare

    model = _symmetry_model(data.n_features, data.n_outputs, seed)
    start = symmetric_weights(model, case, np.random.default_rng((seed, 1)))
    model.set_weights(start)
    result = compare.training(model, data.x_train, data.y_train, epochs=epochs,
                              batch_size=32, validation_data=(data.x_test, data.y_test), shuffle=True)
    final = {row.name: row for row in result.rows if row.layer != "history"}
    refnn_weights = [np.asarray(final[path].refnn) for path in model.params]
    keras_weights = [np.asarray(final[path].keras) for path in model.params]
    model.set_weights(refnn_weights)
    model.forward(data.x_test[:12])
    return {
        "history": {"refnn": result.refnn_history, "keras": result.keras_history},
        "spread": {"refnn": unit_spread(refnn_weights), "keras": unit_spread(keras_weights)},
        "start_spread": unit_spread(start),
        "hidden_1": model.layers[0].Y.tolist(),
        "test_accuracy": {"refnn": result.refnn_history["val_accuracy"][-1],
                          "keras": result.keras_history["val_accuracy"][-1]},
        "max_rel": result.max_rel, "passed": bool(result.passed),
    }


def measure_symmetry(data, quick: bool, seed: int) -> dict:
    """The three starts of part 1, each trained in refnn and Keras on the same batches."""
    epochs = 5 if quick else 15
    cases = {case: _symmetry_case(data, case, epochs, seed) for case in SYMMETRY_CASES}
    return {"cases": cases, "epochs": epochs, "n_train": int(data.x_train.shape[0]), "hidden": list(SYMMETRY_HIDDEN),
            "constant": CONSTANT, "output_spread": OUTPUT_SPREAD, "chance": 1.0 / data.n_outputs}


# ---- layer by layer, both sides ------------------------------------------------------------------------
def _deep_model(activation: str, depth: int, n_in: int, n_out: int, seed: int,
                kernel_initializer="glorot_uniform") -> refnn.Sequential:
    model = refnn.Sequential([layers.Dense(WIDTH, activation=activation, kernel_initializer=kernel_initializer)
                              for _ in range(depth)] + [layers.Dense(n_out, activation="softmax")],
                             input_dim=n_in, seed=seed)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    return model


def _keras_layer_by_layer(model: refnn.Sequential, x: np.ndarray, y: np.ndarray) -> dict:
    """Keras's activations ``h_ℓ``, ``∂E/∂h_ℓ`` and ``∂E/∂W_ℓ`` of ``to_keras(model)``, by
    ``tf.GradientTape`` around ``compute_loss`` (the loss ``fit`` differentiates)."""
    import tensorflow as tf

    import keras_bridge

    twin = keras_bridge.to_keras(model)
    dense = [k for k in twin.layers if hasattr(k, "kernel")]
    with keras_bridge.floatx(model.dtype.name):
        with tf.GradientTape(persistent=True) as tape:
            h, outputs = tf.constant(x), []
            for klayer in dense:
                h = klayer(h, training=False)
                tape.watch(h)
                outputs.append(h)
            loss = twin.compute_loss(x=x, y=y, y_pred=h, training=False)
        d_outputs = tape.gradient(loss, outputs[:-1])
        d_kernels = tape.gradient(loss, [k.kernel for k in dense])
        del tape
    return {"h": [o.numpy() for o in outputs], "dh": [g.numpy() for g in d_outputs],
            "dW": [g.numpy() for g in d_kernels]}


def layer_by_layer(model: refnn.Sequential, x: np.ndarray, y: np.ndarray) -> dict:
    """Each layer's activations ``h_ℓ``, the backpropagated ``∂E/∂h_ℓ`` (hidden layers) and
    ``∂E/∂W_ℓ``, refnn's (``loss_and_gradients`` in inference mode) and Keras's, with the relative
    difference of each layer's activations and the largest ones (activations; gradients)."""
    _, grads = model.loss_and_gradients(x, y, training=False)
    mine = {"h": [layer.Y.copy() for layer in model.layers],
            "dh": [model.input_gradients[layer.name] for layer in model.layers[1:]],
            "dW": [grads[f"{layer.name}/kernel"] for layer in model.layers]}
    theirs = _keras_layer_by_layer(model, x, y)
    by_layer = [relative_error(a, b) for a, b in zip(mine["h"], theirs["h"])]
    errors = {"activations": max(by_layer),
              "gradients": max(relative_error(a, b) for key in ("dh", "dW") for a, b in zip(mine[key], theirs[key]))}
    return {"refnn": mine, "keras": theirs, "errors": errors, "activation_errors": by_layer}


def _histogram(values: np.ndarray, activation: str) -> list[float]:
    counts, _ = np.histogram(values, bins=HISTOGRAM_BINS, range=BOUNDS[activation])
    return (counts / values.size).tolist()


def _saturated_share(values: np.ndarray, activation: str) -> float:
    low, high = BOUNDS[activation]
    return float(np.mean((values < low + SATURATED_WITHIN) | (values > high - SATURATED_WITHIN)))


# ---- 2. saturation ---------------------------------------------------------------------------------------
def normal_weights(model: refnn.Sequential, gain: float, rng: np.random.Generator) -> list[np.ndarray]:
    """``W_ℓ ~ N(0, σ_ℓ²)``, ``σ_ℓ = gain · √(2/(fan_in + fan_out))``, biases 0."""
    out = []
    for layer in model.layers:
        fan_in, fan_out = layer.params["kernel"].shape
        out += [gain * glorot_std(fan_in, fan_out) * rng.standard_normal((fan_in, fan_out)),
                np.zeros(fan_out)]
    return out


def _saturation_case(activation: str, gain: float, x, y, seed: int) -> dict:
    model = _deep_model(activation, SATURATION_DEPTH, x.shape[1], y.shape[1], seed)
    model.set_weights(normal_weights(model, gain, np.random.default_rng((seed, 2))))
    both = layer_by_layer(model, x, y)
    hidden = both["refnn"]["h"][:-1]
    return {
        "gain": gain,
        "sigma": [gain * glorot_std(*layer.params["kernel"].shape) for layer in model.layers],
        "histograms": [_histogram(h, activation) for h in hidden],
        "slope_rms": [float(np.sqrt(np.mean(SLOPES[activation](h) ** 2))) for h in hidden],
        "std": {side: [float(np.std(h)) for h in both[side]["h"][:-1]] for side in ("refnn", "keras")},
        "saturated": [_saturated_share(h, activation) for h in hidden],
        "grad_norm": {side: [float(np.linalg.norm(g)) for g in both[side]["dW"]] for side in ("refnn", "keras")},
        "errors": both["errors"], "activation_errors": both["activation_errors"],
    }


def measure_saturation(x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """Part 2: every activation × scale."""
    cases = {act: {name: _saturation_case(act, gain, x, y, seed) for name, gain in SCALES.items()}
             for act in BOUNDS}
    return {"cases": cases, "depth": SATURATION_DEPTH, "width": WIDTH, "batch": int(x.shape[0]),
            "bins": HISTOGRAM_BINS, "bounds": BOUNDS, "saturated_within": SATURATED_WITHIN}


# ---- 3. depth ----------------------------------------------------------------------------------------------
def _depth_case(activation: str, initializer: str, x, y, seed: int) -> dict:
    model = _deep_model(activation, DEPTH_LAYERS, x.shape[1], y.shape[1], seed, initializer)
    both = layer_by_layer(model, x, y)
    std = {side: [float(np.std(h)) for h in both[side]["h"][:-1]] for side in ("refnn", "keras")}
    grad_std = {side: [float(np.std(g)) for g in both[side]["dh"]] for side in ("refnn", "keras")}
    ratio = (std["refnn"][-1] / std["refnn"][0]) ** (1.0 / (DEPTH_LAYERS - 1))
    return {"std": std, "grad_std": grad_std, "ratio_per_layer": float(ratio), "errors": both["errors"],
            "activation_errors": both["activation_errors"]}


def measure_depth(x: np.ndarray, y: np.ndarray, seed: int) -> dict:
    """Part 3: ReLU and tanh, Glorot uniform against He normal, ``DEPTH_LAYERS`` deep."""
    cases = {act: {name: _depth_case(act, init, x, y, seed) for name, init in DEPTH_INITS.items()}
             for act in ("relu", "tanh")}
    return {"cases": cases, "depth": DEPTH_LAYERS, "width": WIDTH, "relu_glorot_theory": float(np.sqrt(0.5))}


# ---- 4. the initializers themselves ------------------------------------------------------------------------
def _ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov distance ``max_t |F_a(t) − F_b(t)|``."""
    a, b = np.sort(a), np.sort(b)
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, side="right") / a.size
                                - np.searchsorted(b, grid, side="right") / b.size)))


def _draw_statistics(draws: np.ndarray, bound: float) -> dict:
    """Mean, std, largest magnitude, and the density on ``DENSITY_BINS`` bins of ``[−bound, bound]``."""
    counts, _ = np.histogram(draws, bins=DENSITY_BINS, range=(-bound, bound))
    width = 2.0 * bound / DENSITY_BINS
    return {"mean": float(draws.mean()), "std": float(draws.std()), "max_abs": float(np.abs(draws).max()),
            "density": (counts / (draws.size * width)).tolist()}


def measure_initializers(seed: int) -> dict:
    """Part 4: refnn's and Keras's Glorot-uniform and He-normal draws of one ``KERNEL_SHAPE`` kernel."""
    import keras

    fan_in, fan_out = KERNEL_SHAPE
    kinds = {
        "Glorot uniform": (initializers.GlorotUniform(seed=seed), keras.initializers.GlorotUniform(seed=seed),
                           glorot_std(fan_in, fan_out), np.sqrt(6.0 / (fan_in + fan_out))),
        "He normal": (initializers.HeNormal(seed=seed), keras.initializers.HeNormal(seed=seed),
                      np.sqrt(2.0 / fan_in), 2.0 * np.sqrt(2.0 / fan_in) / 0.87962566103423978),
    }
    out = {}
    for name, (mine, theirs, std, bound) in kinds.items():
        a = mine(KERNEL_SHAPE, "float64").ravel()
        b = keras.ops.convert_to_numpy(theirs(KERNEL_SHAPE, dtype="float64")).ravel()
        out[name] = {"formula_std": float(std), "bound": float(bound),
                     "refnn": _draw_statistics(a, bound), "keras": _draw_statistics(b, bound),
                     "ks": _ks_distance(a, b),
                     # the 1 % critical value of the two-sample KS test, c(α)·√((n + m)/(n m)), c = 1.628
                     "ks_critical_1pct": float(1.628 * np.sqrt(2.0 / a.size))}
    return {"shape": list(KERNEL_SHAPE), "seed": seed, "kinds": out}


# ---- the lesson ------------------------------------------------------------------------------------------------
def _parity(symmetry: dict, saturation: dict, depth: dict) -> dict:
    """The largest refnn–Keras differences, by check, the networks each covers and its tolerance.

    ``activations`` (``TOLERANCES["forward"]``): the networks with weights at Glorot/He scale or
    smaller. ``activations_large_weights`` (``TOLERANCES["gradients"]``): the saturation networks with
    ``g > 1``, ill-conditioned — rounding differences grow layer by layer with the weights.
    ``gradients``: every layer-by-layer network.
    """
    groups = {"activations": {}, "activations_large_weights": {}}
    for act, cases in saturation["cases"].items():
        for name, c in cases.items():
            groups["activations_large_weights" if c["gain"] > 1.0 else "activations"][f"{act}, {name}"] = c
    for act, cases in depth["cases"].items():
        groups["activations"].update({f"{act}, {name}": c for name, c in cases.items()})
    every = [c for group in groups.values() for c in group.values()]
    errors = {"training": max(c["max_rel"] for c in symmetry["cases"].values()),
              **{key: max(c["errors"]["activations"] for c in group.values()) for key, group in groups.items()},
              "gradients": max(c["errors"]["gradients"] for c in every)}
    networks = {**{key: list(group) for key, group in groups.items()},
                "gradients": [name for group in groups.values() for name in group]}
    tolerances = {"training": TOLERANCES["training"]["float64"], "activations": TOLERANCES["forward"]["float64"],
                  "activations_large_weights": TOLERANCES["gradients"]["float64"],
                  "gradients": TOLERANCES["gradients"]["float64"]}
    return {"errors": errors, "tolerances": tolerances, "networks": networks}


def measure(quick: bool = False, seed: int = 0) -> dict:
    """Every number of the lesson (see the module docstring); ``quick`` trains part 1 for 5 epochs
    instead of 15 (parts 2–4 are cheap and keep their size). ``seed``: a non-negative int (the data
    split, the models' initializers, the symmetric and normal weight draws)."""
    seed = check_non_negative_int("seed", seed)
    data = datasets.load("digits", "float64", seed)
    x, y = data.x_test[:BATCH], data.y_test[:BATCH]
    symmetry = measure_symmetry(data, quick, seed)
    saturation, depth = measure_saturation(x, y, seed), measure_depth(x, y, seed)
    return {"quick": quick, "seed": seed, "dataset": data.description, "symmetry": symmetry,
            "saturation": saturation, "depth": depth, "initializers": measure_initializers(seed),
            **_parity(symmetry, saturation, depth)}


def section(measured: dict):
    """The rendering (``initialization_page.section``)."""
    from comparisons.lessons.initialization_page import section as render

    return render(measured, TITLE)
