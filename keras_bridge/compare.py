"""Live comparisons of refnn against Keras: forward, per-layer gradients, optimizer steps, training.

Each function runs the same computation on both sides *now* (no stored numbers) and returns a
``Comparison``: plain rows (layer, quantity, max absolute and relative difference, tolerance,
pass/fail) that print as a table. ``assert_passed()`` raises an ``AssertionError`` naming the
*first* layer and quantity that disagree (in the order they are computed: forward order for
outputs, backpropagation order for gradients) with both values, "refnn vs keras".

Relative difference of a tensor ``a`` (refnn) against ``b`` (Keras):
``max|a − b| / max(max|b|, 1e-300)`` — the worst deviation against the tensor's own scale, as
``tests/conftest.py`` defines it. Trajectories take the worst step; training curves the worst
epoch (each epoch's value against itself). Tolerances are the contract of DESIGN.md
(``TOLERANCES``).

What each side runs:

* The argument may be a refnn model (its Keras twin is ``to_keras(model, plugins=True)``, so
  Rprop, Quickprop and Levenberg–Marquardt run as ``keras_bridge.plugins``) or a Keras model (its
  refnn twin is ``from_keras(model)``). Both sides start with a fresh optimizer of the same
  configuration (optimizer state does not cross the bridge).
* The refnn side is ``keras_exact(model)``: a copy with the hyper-parameters Keras rounds through
  float32 rounded the same way (regularizer factors, optimizer ``keras_float32_constants``). That
  turns ~1e-8 float64 differences into ~1e-16. ``keras_exact=False`` compares the model as it is.
* Keras runs under ``keras_bridge.floatx(model dtype)`` (restored afterwards).
* ``training``: refnn draws its batch order (``fit``'s per-epoch permutation from the model's
  seeded generator); Keras receives exactly those batches. The bridge replays refnn's generator
  to get the permutations, builds one ``tf.data`` pipeline holding every epoch's batches in that
  order, and calls Keras's own ``fit`` once with ``steps_per_epoch`` (Keras then keeps one
  iterator across epochs), ``validation_data`` = refnn's held-out last rows and
  ``validation_batch_size = batch_size``. So ``history["loss"]`` is Keras's size-weighted
  per-epoch mean of the training-mode batch losses (partial last batch included), validation runs
  at the end of each epoch, and Keras callbacks (EarlyStopping) act as in any ``fit``.
  ``keras_fit_in_order`` with the identity order is bit-identical to
  ``fit(x, y, shuffle=False, validation_split=v)`` (tested).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import keras
import numpy as np
import tensorflow as tf

import refnn
from refnn import callbacks as rcallbacks
from keras_bridge.architecture import from_keras, keras_exact as _keras_exact, to_keras
from keras_bridge.dtypes import floatx, model_dtype
from keras_bridge.errors import NotMappableError
from keras_bridge.optimizers import keras_exact_optimizer, optimizer_from_keras, optimizer_to_keras
from keras_bridge.weights import keras_weights_by_path

__all__ = [
    "TOLERANCES",
    "Row",
    "Comparison",
    "TrainingComparison",
    "forward",
    "gradients",
    "optimizer_steps",
    "training",
    "keras_fit_in_order",
    "callbacks_to_keras",
    "relative_error",
]

#: the tolerance contract (DESIGN.md), max relative error per comparison
TOLERANCES = {
    "forward": {"float64": 1e-12, "float32": 1e-6},
    "gradients": {"float64": 1e-10, "float32": 1e-5},
    "optimizer": {"float64": 1e-10, "float32": 1e-5},
    "training": {"float64": 1e-8, "float32": 1e-4},
}
TINY = 1e-300


def relative_error(mine, theirs) -> float:
    """``max|mine − theirs| / max(max|theirs|, 1e-300)``; ``inf`` for a shape mismatch, NaN-safe
    (a NaN on one side only is ``inf``)."""
    a = np.asarray(mine, dtype=np.float64)
    b = np.asarray(theirs, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    if a.size == 0:
        return 0.0
    both_nan = np.isnan(a) & np.isnan(b)
    diff = np.where(both_nan, 0.0, np.abs(a - b))
    if np.any(np.isnan(diff)):
        return math.inf
    return float(np.max(diff) / max(float(np.nanmax(np.abs(b))) if np.any(~np.isnan(b)) else 0.0, TINY))


def _max_abs(mine, theirs) -> float:
    a, b = np.asarray(mine, np.float64), np.asarray(theirs, np.float64)
    if a.shape != b.shape:
        return math.inf
    return float(np.max(np.abs(a - b))) if a.size else 0.0


@dataclass
class Row:
    """One compared quantity: ``refnn`` vs ``keras`` values and their differences."""

    layer: str
    quantity: str
    refnn: np.ndarray = field(repr=False)
    keras: np.ndarray = field(repr=False)
    max_abs: float
    max_rel: float
    rtol: float

    @property
    def passed(self) -> bool:
        return self.max_rel <= self.rtol  # NaN fails

    @property
    def name(self) -> str:
        return f"{self.layer}/{self.quantity}"


def _row(layer, quantity, mine, theirs, rtol, rel=None) -> Row:
    mine, theirs = np.asarray(mine), np.asarray(theirs)
    return Row(layer, quantity, mine, theirs, _max_abs(mine, theirs),
               relative_error(mine, theirs) if rel is None else rel, rtol)


def _preview(a: np.ndarray) -> str:
    flat = np.asarray(a).ravel()
    text = np.array2string(flat[:6], precision=17, separator=", ")
    return text[:-1] + ", ...]" if flat.size > 6 else text


@dataclass
class Comparison:
    """The result of one live comparison. ``print(result)`` shows the table.

    Attributes:
        what: ``"forward"``, ``"gradients"``, ``"optimizer"`` or ``"training"``.
        dtype: the models' dtype.
        rows: the compared quantities, in the order they are computed.
        notes: how the comparison was set up (what was rounded, what was not compared).
    """

    what: str
    dtype: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(row.passed for row in self.rows)

    @property
    def first_failure(self) -> Row | None:
        return next((row for row in self.rows if not row.passed), None)

    @property
    def max_rel(self) -> float:
        return max((row.max_rel for row in self.rows), default=0.0)

    @property
    def errors(self) -> dict[str, float]:
        """``{"layer/quantity": max relative error}``."""
        return {row.name: row.max_rel for row in self.rows}

    def failure_message(self) -> str:
        row = self.first_failure
        if row is None:
            return ""
        i = self.rows.index(row)
        lines = [
            f"compare.{self.what} ({self.dtype}): first disagreement at layer {row.layer!r}, "
            f"quantity {row.quantity!r}: max relative error {row.max_rel:.3e} > {row.rtol:.0e} "
            f"(max abs {row.max_abs:.3e})",
            f"  refnn: {_preview(row.refnn)}",
            f"  keras: {_preview(row.keras)}",
        ]
        if np.shape(row.refnn) != np.shape(row.keras):
            lines.append(f"  shapes: refnn {np.shape(row.refnn)}, keras {np.shape(row.keras)}")
        if i > 0:
            prev = self.rows[i - 1]
            lines.append(f"  (previous quantity {prev.name!r} agreed: {prev.max_rel:.3e})")
        return "\n".join(lines)

    def assert_passed(self) -> "Comparison":
        """Raise ``AssertionError`` naming the first disagreement; return ``self`` otherwise."""
        if not self.passed:
            raise AssertionError(self.failure_message())
        return self

    def table(self) -> str:
        header = ("layer", "quantity", "shape", "max abs diff", "max rel diff", "tolerance", "")
        body = [
            (row.layer, row.quantity, str(tuple(np.shape(row.keras))), f"{row.max_abs:.3e}",
             f"{row.max_rel:.3e}", f"{row.rtol:.0e}", "ok" if row.passed else "FAIL")
            for row in self.rows
        ]
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
        status = "PASSED" if self.passed else "FAILED"
        out = [f"compare.{self.what} — refnn vs keras, {self.dtype}: {status} "
               f"(max relative difference {self.max_rel:.3e})"]
        out += [f"  note: {n}" for n in self.notes]
        out += [fmt(header), fmt(tuple("-" * w for w in widths)), *map(fmt, body)]
        if not self.passed:
            out.append(self.failure_message())
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


@dataclass
class TrainingComparison(Comparison):
    """``Comparison`` plus both histories (``{key: [per-epoch values]}``) and the epochs run."""

    refnn_history: dict = field(default_factory=dict)
    keras_history: dict = field(default_factory=dict)
    refnn_epochs: int = 0
    keras_epochs: int = 0


# ---- twins ----------------------------------------------------------------------------------------
def _twins(model, keras_exact: bool, compile: bool = True):
    """(refnn side, Keras side, dtype) for a refnn or Keras model."""
    if isinstance(model, keras.Model):
        keras_model = model
        mine = from_keras(model, keras_exact=keras_exact, compile=compile)
    elif isinstance(model, refnn.Sequential):
        keras_model = to_keras(model, compile=compile, plugins=True)
        mine = _keras_exact(model) if keras_exact else copy.deepcopy(model)
        if mine.optimizer is not None:
            # the Keras twin's optimizer is new: start refnn's from the same (empty) state
            flag = getattr(mine.optimizer, "keras_float32_constants", False)
            mine.optimizer = type(mine.optimizer).from_config(mine.optimizer.get_config())
            mine.optimizer.keras_float32_constants = flag
    else:
        raise TypeError(
            f"`model` must be a refnn.Sequential or a keras.Sequential. Received: {type(model).__name__}"
        )
    return mine, keras_model, mine.dtype.name


def _notes(keras_exact: bool) -> list[str]:
    if keras_exact:
        return ["refnn side: keras_exact copy (hyper-parameters Keras rounds through float32 rounded alike)"]
    return ["refnn side: the model as given (exact hyper-parameters; Keras rounds some through float32)"]


def _klayers(keras_model):
    return [k for k in keras_model.layers if not isinstance(k, keras.layers.InputLayer)]


# ---- forward ------------------------------------------------------------------------------------
def forward(model, x, y=None, keras_exact: bool = True) -> Comparison:
    """Every layer's output in inference mode, and the loss (regularisation included) if ``y`` is
    given and the model is compiled.

    Args:
        model: a refnn or Keras ``Sequential``.
        x: inputs ``(N, d)``.
        y: optional targets, to compare the loss value too.
        keras_exact: compare against the ``keras_exact`` copy (see the module docstring).
    """
    mine, keras_model, dtype = _twins(model, keras_exact, compile=y is not None)
    rtol = TOLERANCES["forward"][dtype]
    result = Comparison("forward", dtype, notes=_notes(keras_exact))
    x = np.asarray(x, dtype=dtype)
    with floatx(dtype):
        h_mine, h_keras = x, tf.constant(x)
        for layer, klayer in zip(mine.layers, _klayers(keras_model)):
            h_mine = layer.forward(h_mine, training=False)
            h_keras = klayer(h_keras, training=False)
            result.rows.append(_row(layer.name, "output", h_mine, h_keras.numpy(), rtol))
        if y is not None and mine.loss is not None:
            loss_mine = mine.evaluate(x, y, batch_size=x.shape[0])["loss"]
            loss_keras = keras_model.compute_loss(x=x, y=y, y_pred=h_keras, training=False)
            result.rows.append(_row("model", "loss", loss_mine, float(loss_keras), rtol))
    return result


# ---- gradients ----------------------------------------------------------------------------------
def gradients(model, x, y, keras_exact: bool = True) -> Comparison:
    """The loss and, layer by layer from the output down, ``∂E/∂kernel``, ``∂E/∂bias`` and
    ``∂E/∂X`` (the gradient w.r.t. the layer's input), for the total loss incl. regularisation.

    Both sides run in inference mode (dropout is the identity: its masks cannot be matched;
    every other layer computes the same in both modes). Keras differentiates
    ``model.compute_loss`` under ``tf.GradientTape`` — the loss ``fit`` differentiates, with
    the logits path for a softmax/sigmoid output.

    Args:
        model: a compiled refnn or Keras ``Sequential``.
        x, y: a batch.
        keras_exact: compare against the ``keras_exact`` copy (see the module docstring).
    """
    mine, keras_model, dtype = _twins(model, keras_exact)
    if mine.loss is None:
        raise ValueError("compare.gradients needs a compiled model (the loss defines the gradient).")
    rtol = TOLERANCES["gradients"][dtype]
    result = Comparison("gradients", dtype, notes=_notes(keras_exact))
    x = np.asarray(x, dtype=dtype)
    loss_mine, grads_mine = mine.loss_and_gradients(x, y, training=False)
    dx_mine = dict(mine.input_gradients)
    klayers = _klayers(keras_model)
    with floatx(dtype):
        with tf.GradientTape(persistent=True) as tape:
            h = tf.constant(x)
            inputs = []
            for klayer in klayers:
                tape.watch(h)
                inputs.append(h)
                h = klayer(h, training=False)
            loss_keras = keras_model.compute_loss(x=x, y=y, y_pred=h, training=False)
        dx_keras = tape.gradient(loss_keras, inputs)
        kvars = [{v.name: v for v in k.trainable_weights} for k in klayers]
        grads_keras = [dict(zip(kv, tape.gradient(loss_keras, list(kv.values())))) for kv in kvars]
        del tape
    result.rows.append(_row("model", "loss", loss_mine, float(loss_keras), TOLERANCES["forward"][dtype]))
    for i in reversed(range(len(mine.layers))):
        layer = mine.layers[i]
        for name in layer.params:
            g = grads_keras[i].get(name)
            result.rows.append(_row(layer.name, name, grads_mine[f"{layer.name}/{name}"],
                                    np.full(np.shape(layer.params[name]), np.nan) if g is None else g.numpy(),
                                    rtol))
        result.rows.append(_row(layer.name, "dE/dX", dx_mine.get(layer.name, np.full(x.shape, np.nan)),
                                dx_keras[i].numpy(), rtol))
    return result


# ---- optimizer steps ----------------------------------------------------------------------------
def _default_problem(shapes, steps, seed, dtype):
    """Initial values and a gradient sequence that tells conventions apart: per element a fixed
    direction times noise, the kernel at scale 1, the bias at 1e-4 (where ε matters), and a sign
    flip every 3 steps on half of the elements (Rprop/Quickprop backtracking)."""
    rng = np.random.default_rng(seed)
    init, grads = {}, []
    directions, flips = {}, {}
    for path, shape in shapes.items():
        init[path] = rng.standard_normal(shape).astype(dtype)
        directions[path] = rng.standard_normal(shape) * (1e-4 if path.endswith("bias") else 1.0)
        flips[path] = rng.random(shape) < 0.5
    for t in range(steps):
        step = {}
        for path, shape in shapes.items():
            sign = np.where(flips[path] & ((t // 3) % 2 == 1), -1.0, 1.0)
            noise = 1.0 + 0.3 * rng.standard_normal(shape)
            step[path] = (directions[path] * sign * noise).astype(dtype)
        grads.append(step)
    return init, grads


def optimizer_steps(optimizer, steps: int = 100, dtype: str = "float64", shapes: dict | None = None,
                    gradients_sequence=None, losses=None, seed: int = 0,
                    keras_exact: bool = True) -> Comparison:
    """The trajectories of a refnn optimizer and its Keras twin on the same gradient sequence.

    Both start from the same values and receive the same gradients (``apply_gradients`` on
    ``keras.Variable`` s for Keras, ``apply`` on arrays for refnn). Rprop and Quickprop use the
    ``keras_bridge.plugins`` optimizers; iRprop+ also receives the loss sequence.

    Args:
        optimizer: a refnn optimizer (its Keras twin is ``optimizer_to_keras``) or a Keras optimizer
            (its refnn twin is ``optimizer_from_keras``). A fresh copy is used (the state of
            the argument is not).
        steps: number of updates.
        dtype: ``"float32"`` or ``"float64"``.
        shapes: ``{path: shape}`` of the parameters (default: a 4×3 kernel and its bias).
        gradients_sequence: a list of ``{path: gradient}`` (default: see ``_default_problem``).
        losses: the loss per step (iRprop+; default: a noisy decreasing sequence with increases).
        seed: for the default initial values, gradients and losses.
        keras_exact: refnn twin with ``keras_float32_constants=True``.

    Returns:
        rows per parameter: the worst step's relative difference over the trajectory.
    """
    dtype = np.dtype(dtype).name
    if isinstance(optimizer, keras.optimizers.Optimizer):
        with floatx(dtype):
            keras_opt = type(optimizer).from_config(optimizer.get_config())
        mine = optimizer_from_keras(keras_opt, keras_float32_constants=keras_exact)
    else:
        mine = type(optimizer).from_config(optimizer.get_config())
        if keras_exact:
            mine = keras_exact_optimizer(mine)
        keras_opt = optimizer_to_keras(mine, dtype=dtype, plugins=True)
    shapes = shapes or {"dense_0/kernel": (4, 3), "dense_0/bias": (3,)}
    init, default_grads = _default_problem(shapes, steps, seed, dtype)
    grads_seq = default_grads if gradients_sequence is None else [
        {p: np.asarray(g, dtype=dtype) for p, g in step.items()} for step in gradients_sequence]
    if len(grads_seq) < steps:
        raise ValueError(f"`gradients_sequence` has {len(grads_seq)} steps. Received: steps={steps}")
    if losses is None:
        rng = np.random.default_rng(seed + 1)
        losses = list(np.exp(-0.05 * np.arange(steps)) + 0.05 * rng.standard_normal(steps))
    uses_loss = getattr(keras_opt, "uses_loss", False)
    params = {p: v.copy() for p, v in init.items()}
    traj_mine = {p: [] for p in shapes}
    traj_keras = {p: [] for p in shapes}
    with floatx(dtype):
        kvars = [keras.Variable(init[p], dtype=dtype, name=p.replace("/", "_")) for p in shapes]
        for t in range(steps):
            mine.apply(params, {p: grads_seq[t][p] for p in shapes}, loss=float(losses[t]))
            pairs = [(tf.constant(grads_seq[t][p]), v) for p, v in zip(shapes, kvars)]
            if uses_loss:
                keras_opt.apply_gradients(pairs, loss=float(losses[t]))
            else:
                keras_opt.apply_gradients(pairs)
            for p, v in zip(shapes, kvars):
                traj_mine[p].append(params[p].copy())
                traj_keras[p].append(v.numpy())
    rtol = TOLERANCES["optimizer"][dtype]
    name = type(mine).__name__
    result = Comparison("optimizer", dtype, notes=[
        f"{mine!r} vs keras {type(keras_opt).__name__}({', '.join(f'{k}={v!r}' for k, v in _short_config(keras_opt).items())})",
        f"{steps} steps; relative difference of the worst step",
    ])
    for p in shapes:
        a, b = np.stack(traj_mine[p]), np.stack(traj_keras[p])
        rel = max(relative_error(a[t], b[t]) for t in range(steps))
        layer, _, quantity = p.rpartition("/")
        result.rows.append(_row(layer or name, quantity, a, b, rtol, rel=rel))
    return result


def _short_config(keras_opt) -> dict:
    config = keras_opt.get_config()
    skip = {"name", "use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
            "gradient_accumulation_steps"}
    return {k: v for k, v in config.items() if k not in skip and v is not None}


# ---- training -----------------------------------------------------------------------------------
def callbacks_to_keras(callbacks) -> list:
    """Keras counterparts of refnn callbacks (EarlyStopping, TerminateOnNaN); History and the
    progress bar are dropped (``fit`` makes its own).

    Raises:
        NotMappableError: a callback or option with no Keras counterpart (``TimeLimit``,
            ``EarlyStopping(comparison_dtype="float64")``).
    """
    out = []
    for cb in callbacks or []:
        if isinstance(cb, (rcallbacks.History, rcallbacks.ProgressBar)):
            continue
        if isinstance(cb, rcallbacks.EarlyStopping):
            if cb.comparison_dtype != np.float32:
                raise NotMappableError(
                    "EarlyStopping(comparison_dtype='float64') has no Keras counterpart: Keras compares "
                    "the monitored values as float32 tensors."
                )
            out.append(keras.callbacks.EarlyStopping(
                monitor=cb.monitor, min_delta=cb.min_delta, patience=cb.patience, verbose=0,
                mode=cb.mode, baseline=cb.baseline, restore_best_weights=cb.restore_best_weights,
                start_from_epoch=cb.start_from_epoch))
        elif isinstance(cb, rcallbacks.TerminateOnNaN):
            out.append(keras.callbacks.TerminateOnNaN())
        else:
            raise NotMappableError(f"Callback {type(cb).__name__} has no Keras counterpart in keras_bridge.")
    return out


def keras_fit_in_order(keras_model, x, y, orders, batch_size: int, validation_data=None,
                       callbacks=None):
    """Keras ``fit`` fed the batches of a given order, one epoch per row of ``orders``.

    Epoch ``e`` trains on ``x[orders[e]]`` in consecutive batches of ``batch_size`` (the last one
    partial). One ``tf.data`` pipeline holds all epochs' batches and ``fit`` runs once with
    ``steps_per_epoch`` (Keras keeps one iterator across epochs then), so history, validation
    and callbacks follow Keras's own ``fit``. Runs under ``floatx(model dtype)``.

    Returns:
        Keras's ``History``.
    """
    dtype = model_dtype(keras_model)
    orders = np.asarray(orders, dtype=np.int64)
    if orders.ndim != 2:
        raise ValueError(f"`orders` must be 2-D (epochs, rows). Received: orders.shape={orders.shape}")
    epochs, n = orders.shape
    steps = -(-n // batch_size)
    with floatx(dtype):
        xt = tf.constant(np.asarray(x, dtype=dtype))
        yt = tf.constant(y if np.issubdtype(np.asarray(y).dtype, np.integer) else np.asarray(y, dtype=dtype))
        data = (tf.data.Dataset.from_tensor_slices(orders)
                .flat_map(lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
                .map(lambda rows: (tf.gather(xt, rows), tf.gather(yt, rows))))
        return keras_model.fit(data, epochs=epochs, steps_per_epoch=steps, validation_data=validation_data,
                               validation_batch_size=batch_size, callbacks=callbacks, shuffle=False, verbose=0)


def training(model, x, y, epochs: int = 20, batch_size: int = 32, validation_split: float = 0.0,
             validation_data=None, shuffle: bool = True, callbacks=None,
             keras_exact: bool = True) -> TrainingComparison:
    """Train the refnn model and its Keras twin side by side; compare both histories epoch by
    epoch and the final weights.

    The model passed in is not changed: the refnn side trains a copy (``keras_exact`` or a deep
    copy), with the same random generators; Keras trains ``to_keras(model)``. Batches are ordered
    by refnn (see the module docstring).

    Args:
        model: a compiled refnn ``Sequential``.
        x, y: training data (``validation_split`` takes the last rows, as both ``fit`` s do).
        epochs, batch_size, validation_split, validation_data, shuffle: as ``fit``.
        callbacks: refnn callbacks (EarlyStopping, TerminateOnNaN); each side gets its own copy.
        keras_exact: compare against the ``keras_exact`` copy (see the module docstring).

    Returns:
        a ``TrainingComparison``: rows ``history/<key>`` (worst epoch), ``history/epochs run``,
        and ``<layer>/<param>`` for the final weights.
    """
    if not isinstance(model, refnn.Sequential):
        raise TypeError(f"`model` must be a refnn.Sequential. Received: {type(model).__name__}")
    mine, keras_model, dtype = _twins(model, keras_exact)
    if mine.loss is None:
        raise ValueError("compare.training needs a compiled model.")
    x = np.asarray(x, dtype=dtype)
    y_arr = np.asarray(y)
    n_all = x.shape[0]
    if validation_split:
        split_at = int(n_all * (1.0 - validation_split))  # the same expression as both fits
        x_train, y_train = x[:split_at], y_arr[:split_at]
        val = (x[split_at:], y_arr[split_at:])
    else:
        x_train, y_train = x, y_arr
        val = None if validation_data is None else (np.asarray(validation_data[0], dtype=dtype),
                                                    validation_data[1])
    n = x_train.shape[0]
    if shuffle:
        # fit draws one permutation per epoch from the model's shuffle generator: replay it
        orders = mine.next_shuffle_orders(n, epochs)
    else:
        orders = np.tile(np.arange(n), (epochs, 1))
    keras_callbacks = callbacks_to_keras(callbacks)
    history_mine = mine.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                            validation_split=validation_split, validation_data=validation_data,
                            callbacks=copy.deepcopy(list(callbacks or [])), verbose=0).history
    history_keras = keras_fit_in_order(keras_model, x_train, y_train, orders, batch_size,
                                       validation_data=val, callbacks=keras_callbacks).history
    rtol = TOLERANCES["training"][dtype]
    result = TrainingComparison(
        "training", dtype, notes=_notes(keras_exact) + [
            f"{epochs} epochs, batch_size={batch_size}, {n} training rows"
            + (f", {n_all - n} validation rows" if val is not None else "")
            + (", refnn's shuffle order" if shuffle else ", no shuffling")],
        refnn_history={k: list(v) for k, v in history_mine.items()},
        keras_history={k: list(map(float, v)) for k, v in history_keras.items()},
        refnn_epochs=len(history_mine.get("loss", [])), keras_epochs=len(history_keras.get("loss", [])),
    )
    result.rows.append(_row("history", "epochs run", [result.refnn_epochs], [result.keras_epochs], 0.0))
    for key in sorted(set(history_mine) | set(history_keras), key=lambda k: (k.startswith("val_"), k != "loss", k)):
        a = np.asarray(history_mine.get(key, [np.nan]), dtype=np.float64)
        b = np.asarray(history_keras.get(key, [np.nan]), dtype=np.float64)
        if a.shape == b.shape:
            rel = max((relative_error(a[e], b[e]) for e in range(a.size)), default=0.0)
        else:
            rel = math.inf
        result.rows.append(_row("history", key, a, b, rtol, rel=rel))
    final_keras = keras_weights_by_path(mine, keras_model)
    for path, value in mine.params.items():
        layer, _, name = path.rpartition("/")
        result.rows.append(_row(layer, name, value, final_keras[path], rtol))
    return result
