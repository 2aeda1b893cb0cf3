"""Activations and losses: f and f′, the softmax Jacobian, each loss's gradient — refnn against Keras.

Four parts, each computed in refnn and in Keras/TensorFlow in the same run (float64):

1. **f and f′** of ReLU, sigmoid and tanh on a grid of x ∈ [−5, 5] (0 included exactly)::

       σ′ = σ(1 − σ)        tanh′ = 1 − tanh²        ReLU′ = [x > 0]   (0 at x = 0)

   refnn: ``refnn.activations.get(name)(x)`` and ``backward(x, f(x), 1)``; Keras:
   ``keras.activations.get(name)(x)`` and ``tf.GradientTape().gradient(f(x), x)``.
2. **The softmax Jacobian** of one logit vector z::

       ∂s_i/∂z_j = s_i(δ_ij − s_j),   J = diag(s) − s sᵀ       notes' shortcut: diag(s(1 − s))

   refnn: ``Softmax.backward(z, s, e_k)`` for each unit vector e_k (= row k of J, J is symmetric);
   TensorFlow: ``tape.jacobian``. The crossentropy's gradient through each: ``∂L/∂z = J(−y/s) = s − y``
   against the diagonal's ``−y ⊙ (1 − s)``.
3. **Each loss and ∂L/∂ŷ** against the prediction for a fixed target (per sample, no reduction)::

       MSE (ŷ − y)² → 2(ŷ − y)     MAE |ŷ − y| → sign(ŷ − y)
       BCE −[y log p + (1 − y) log(1 − p)] → (p − y)/(p(1 − p))
       CCE −Σ y_k log p_k → −y_k/p_k  (Keras renormalises p/Σp first: −y_k/p_k + 1)

   refnn: ``refnn.losses.*(reduction="none").value_and_gradient``; Keras: ``keras.losses.*`` and
   ``tape.gradient``. Both clip probabilities to [ε, 1 − ε], ε = 1e-7; the textbook curve is unclipped.
4. **The shortcut in training**: the same softmax classifier (same initial weights, same batches)
   with ``Softmax()`` (exact Jacobian, fused with the crossentropy: ``∂L/∂z = s − y``) and with
   ``Softmax(derivative="diagonal")`` — once with refnn's crossentropy, whose ``∂L/∂p = −y/p + 1``
   (Keras renormalises p/Σp; the full Jacobian cancels the +1, the diagonal does not), once with the
   notes' ``∂L/∂p = −y/p`` (``NotesCrossentropy``), which through the diagonal is ``−y ⊙ (1 − s)``.
   The exact run is also trained in Keras through ``keras_bridge.compare.training``; Keras has no
   diagonal softmax and the bridge refuses it (its message is shown).
"""

from __future__ import annotations

import numpy as np

from refnn import activations, layers, losses, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from refnn.utils.validation import check_non_negative_int

__all__ = ["TITLE", "ACTIVATION_NAMES", "LOGITS", "TARGET_CLASS", "LOSSES", "TRAINING", "NotesCrossentropy", "measure",
           "section"]

TITLE = "Activations and losses: f and f′, the softmax Jacobian, ∂L/∂ŷ"

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh")
#: the softmax study's logits and the index of its target class
LOGITS = (2.0, 1.0, 0.1, -1.0)
TARGET_CLASS = 1
#: loss → (refnn class, Keras function name, target, prediction grid kind)
LOSSES = {
    "MSE": (losses.MeanSquaredError, "mean_squared_error", 1.0, "real"),
    "MAE": (losses.MeanAbsoluteError, "mean_absolute_error", 1.0, "real"),
    "BCE": (losses.BinaryCrossentropy, "binary_crossentropy", 1.0, "probability"),
    "CCE": (losses.CategoricalCrossentropy, "categorical_crossentropy", 1.0, "probability"),
}
CCE_CLASSES = 3
#: the training study: data set, hidden units (tanh), SGD learning rate (exact in float32, so the
#: bridge's keras_exact copy trains with the very same rate), batch size, epochs (default, quick)
TRAINING = {"dataset": "digits", "hidden": 32, "learning_rate": 0.25, "batch_size": 32, "epochs": (30, 6)}

_F64 = {kind: TOLERANCES[kind]["float64"] for kind in ("forward", "gradients", "training")}


def _grid(half: int, limit: float) -> np.ndarray:
    """``2·half + 1`` points from −limit to limit; the middle one is exactly 0."""
    return np.arange(-half, half + 1) * (limit / half)


def _keras_value_and_derivative(function, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``f(x)`` and ``∂(Σf)/∂x`` by ``tf.GradientTape`` (element-wise f: its derivative)."""
    import tensorflow as tf

    xt = tf.constant(x, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = function(xt)
        total = tf.reduce_sum(y)
    return np.asarray(y), np.asarray(tape.gradient(total, xt))


def _activations(x: np.ndarray) -> dict:
    """Part 1: f and f′ of each activation, refnn and Keras, and their relative differences."""
    import keras

    from keras_bridge.dtypes import floatx

    zero = int(np.flatnonzero(x == 0.0)[0])
    out = {}
    with floatx("float64"):
        for name in ACTIVATION_NAMES:
            mine = activations.get(name)
            f = mine(x)
            df = mine.backward(x, f, np.ones_like(x))
            kf, kdf = _keras_value_and_derivative(keras.activations.get(name), x)
            out[name] = {
                "refnn": {"f": f.tolist(), "df": df.tolist()},
                "keras": {"f": kf.tolist(), "df": kdf.tolist()},
                "f_error": relative_error(f, kf), "df_error": relative_error(df, kdf),
                "df_at_zero": {"refnn": float(df[zero]), "keras": float(kdf[zero])},
            }
    return out


def _softmax() -> dict:
    """Part 2: J by refnn's backward on unit vectors and by TensorFlow's jacobian, the notes'
    diagonal, and the crossentropy's gradient ∂L/∂z for ``TARGET_CLASS`` through each."""
    import keras
    import tensorflow as tf

    from keras_bridge.dtypes import floatx

    z = np.asarray(LOGITS)[None, :]
    exact, diagonal = activations.Softmax(), activations.Softmax(derivative="diagonal")
    s = exact(z)
    units = np.eye(z.shape[1])
    jacobian = np.stack([exact.backward(z, s, e[None, :])[0] for e in units])
    diagonal_jacobian = np.stack([diagonal.backward(z, s, e[None, :])[0] for e in units])
    y = units[TARGET_CLASS][None, :]
    with floatx("float64"):
        zt = tf.constant(z)
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(zt)
            st = keras.activations.softmax(zt)
            loss = keras.losses.categorical_crossentropy(tf.constant(y), st)
        keras_jacobian = np.asarray(tape.jacobian(st, zt, experimental_use_pfor=False))[0, :, 0, :]
        keras_gradient = np.asarray(tape.gradient(loss, zt))[0]
    notes_dy = -y / s  # the notes' ∂L/∂s of L = −Σ y log s
    keras_dy = losses.CategoricalCrossentropy(reduction="none").gradient(y, s)  # −y/s + 1: p/Σp first
    exact_gradient = exact.backward(z, s, notes_dy)[0]
    return {
        "z": list(LOGITS), "s": s[0].tolist(), "target": TARGET_CLASS,
        "jacobian": {"refnn": jacobian.tolist(), "keras": keras_jacobian.tolist(),
                     "diagonal": diagonal_jacobian.tolist(), "difference": (jacobian - diagonal_jacobian).tolist()},
        "jacobian_error": relative_error(jacobian, keras_jacobian),
        "column_sums": jacobian.sum(axis=0).tolist(),
        "loss_gradient": {"notes": notes_dy[0].tolist(), "keras": keras_dy[0].tolist()},
        "gradient": {"exact": exact_gradient.tolist(), "exact_keras_loss": exact.backward(z, s, keras_dy)[0].tolist(),
                     "diagonal": diagonal.backward(z, s, notes_dy)[0].tolist(),
                     "diagonal_keras_loss": diagonal.backward(z, s, keras_dy)[0].tolist(),
                     "keras": keras_gradient.tolist(), "s_minus_y": (s - y)[0].tolist()},
        "gradient_error": relative_error(exact_gradient, keras_gradient),
    }


def _predictions(kind: str, half: int) -> np.ndarray:
    """ŷ for a regression loss (−1 … 3 around the target 1), or probabilities p = σ(u) for
    u ∈ [−21, 21]: 7.6e-10 … 1 − 7.6e-10, past Keras's clip [1e-7, 1 − 1e-7] at both ends."""
    if kind == "real":
        return 1.0 + _grid(half, 2.0)
    return activations.Sigmoid()(_grid(half, 21.0))


def _loss_inputs(name: str, target: float, prediction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(y, ŷ) as 2-D arrays: one column, or for CCE the true class 0 with probability p and the
    other classes (1 − p)/2 each."""
    if name != "CCE":
        return np.full((prediction.size, 1), target), prediction[:, None]
    rest = (1.0 - prediction[:, None]) / (CCE_CLASSES - 1)
    probabilities = np.hstack([prediction[:, None], np.repeat(rest, CCE_CLASSES - 1, axis=1)])
    return np.eye(CCE_CLASSES)[np.zeros(prediction.size, dtype=int)], probabilities


def _textbook(name: str, target: float, p: np.ndarray) -> dict | None:
    """The unclipped textbook crossentropy of the true class and its ∂/∂p (None for MSE, MAE)."""
    if name == "BCE":
        return {"value": (-(target * np.log(p) + (1 - target) * np.log1p(-p))).tolist(),
                "gradient": ((p - target) / (p * (1 - p))).tolist()}
    if name == "CCE":
        return {"value": (-np.log(p)).tolist(), "gradient": (-1.0 / p).tolist()}
    return None


def _losses(half: int) -> dict:
    """Part 3: each loss and ∂L/∂ŷ per sample (for CCE: ∂L/∂p of the true class) against ŷ."""
    import keras
    import tensorflow as tf

    from keras_bridge.dtypes import floatx

    out = {}
    with floatx("float64"):
        for name, (cls, keras_name, target, kind) in LOSSES.items():
            prediction = _predictions(kind, half)
            y, y_pred = _loss_inputs(name, target, prediction)
            value, gradient = cls(reduction="none").value_and_gradient(y, y_pred)
            keras_function = getattr(keras.losses, keras_name)
            keras_value, keras_gradient = _keras_value_and_derivative(
                lambda t, f=keras_function: f(tf.constant(y), t), y_pred)
            out[name] = {
                "target": target, "kind": kind, "prediction": prediction.tolist(),
                "refnn": {"value": value.tolist(), "gradient": gradient[:, 0].tolist()},
                "keras": {"value": keras_value.tolist(), "gradient": keras_gradient[:, 0].tolist()},
                "textbook": _textbook(name, target, prediction),
                "value_error": relative_error(value, keras_value),
                "gradient_error": relative_error(gradient, keras_gradient),
            }
    return out


class NotesCrossentropy(losses.CategoricalCrossentropy):
    """The notes' crossentropy gradient ``∂L/∂p = −y/p`` (p clipped as Keras does; 0 where clipped).

    Keras's (and refnn's) ``CategoricalCrossentropy`` on probabilities first renormalises
    ``p ← p/Σp``, whose derivative adds ``+1`` (``∂L/∂p = −y/p + 1`` when Σp = 1). Through the full
    softmax Jacobian the ``+1`` vanishes (``J·1 = 0``); through the diagonal it does not. The values
    and the logits path (a fused exact softmax) are the parent's.
    """

    def _per_sample(self, y_true, y_pred, from_logits):
        values, gradient = super()._per_sample(y_true, y_pred, from_logits)
        if from_logits:
            return values, gradient
        low, high = y_pred.dtype.type(losses.EPSILON), y_pred.dtype.type(1.0 - losses.EPSILON)
        inside = (y_pred >= low) & (y_pred <= high)
        return values, -y_true / np.clip(y_pred, low, high) * inside


def _classifier(data, seed: int, softmax, loss):
    """The study's network: Dense(hidden, tanh) → Dense(classes, softmax), SGD, crossentropy."""
    import refnn

    model = refnn.Sequential([layers.Dense(TRAINING["hidden"], activation="tanh"),
                              layers.Dense(data.n_outputs, activation=softmax)],
                             input_dim=data.n_features, seed=seed)
    model.compile(optimizer=optimizers.SGD(TRAINING["learning_rate"]), loss=loss, metrics=["accuracy"])
    return model


def _history(model, data, fit: dict) -> dict:
    history = model.fit(data.x_train, data.y_train, shuffle=True, verbose=0, **fit).history
    return {key: [float(v) for v in values] for key, values in history.items()}


def _training(epochs: int, seed: int) -> dict:
    """Part 4: the exact Jacobian (refnn and Keras, same batches) against the diagonal (refnn only),
    the diagonal once with refnn's crossentropy (Keras's ∂L/∂p) and once with the notes' −y/p."""
    from comparisons import datasets
    from keras_bridge import compare, to_keras
    from keras_bridge.errors import NotMappableError

    data = datasets.load(TRAINING["dataset"], "float64", seed)
    fit = {"epochs": epochs, "batch_size": TRAINING["batch_size"], "validation_data": (data.x_test, data.y_test)}
    cce = "categorical_crossentropy"
    exact = _classifier(data, seed, activations.Softmax(), cce)
    diagonal = _classifier(data, seed, activations.Softmax(derivative="diagonal"), cce)
    notes = _classifier(data, seed, activations.Softmax(derivative="diagonal"), NotesCrossentropy())
    same_start = all(np.array_equal(a, b) and np.array_equal(a, c)
                     for a, b, c in zip(exact.get_weights(), diagonal.get_weights(), notes.get_weights()))
    comparison = compare.training(exact, data.x_train, data.y_train, shuffle=True, **fit)
    try:
        to_keras(diagonal)
        refusal = ""
    except NotMappableError as exc:
        refusal = str(exc)
    return {
        **{k: TRAINING[k] for k in ("dataset", "hidden", "learning_rate", "batch_size")},
        "epochs": epochs, "rows": int(data.x_train.shape[0]), "test_rows": int(data.x_test.shape[0]),
        "same_initial_weights": same_start,
        "exact": {"refnn": comparison.refnn_history, "keras": comparison.keras_history},
        "diagonal": {"refnn": _history(diagonal, data, fit)},
        "diagonal_notes": {"refnn": _history(notes, data, fit)},
        "max_rel": float(comparison.max_rel), "passed": bool(comparison.passed), "bridge_refusal": refusal,
    }


def measure(quick: bool = False, seed: int = 0) -> dict:
    """Every number of the lesson (see the module docstring); ``quick``: coarser grids, fewer epochs."""
    check_non_negative_int("seed", seed)
    half = 50 if quick else 200
    x = _grid(half, 5.0)
    return {
        "x": x.tolist(),
        "activations": _activations(x),
        "softmax": _softmax(),
        "losses": _losses(half),
        "training": _training(TRAINING["epochs"][1 if quick else 0], seed),
        "tolerances": dict(_F64),
    }


def section(measured: dict):
    """The lesson's ``Section`` (rendered by ``activations_page``)."""
    from comparisons.lessons.activations_page import render

    return render(measured, TITLE)
