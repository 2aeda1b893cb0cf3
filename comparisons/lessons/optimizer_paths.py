"""Optimizer paths on a 2-D surface: a refnn optimizer and its Keras twin, each on its own run.

The parameter is one vector ``w = (x, y) ∈ R²``; the surface ``f(w)`` has an analytic gradient.

* **refnn**: ``optimizer.apply({"w": w}, {"w": ∇f(w)}, loss=f(w))`` — the gradient from the
  formula (NumPy), the optimizer's usual pipeline on a parameter of shape (2,);
* **Keras**: the twin optimizer (``keras_bridge.optimizer_to_keras``) on a ``keras.Variable``, the
  gradient taken by ``tf.GradientTape`` of ``f`` at *Keras's own* current point — so the two paths
  are independent runs that meet only if every step agrees. The loop runs inside one
  ``tf.function`` (one trace per path).

Both sides in float64. Rprop has no Keras optimizer: its Keras side is ``keras_bridge.plugins.Rprop``
(refnn's own port), and iRprop+ receives each side's own ``f(w)`` as its loss.

The surfaces (``a``, ``b`` their coefficients)::

    quadratic   f = ½(a x² + b y²)          ∇f = (a x, b y)                       minimum (0, 0)
    rosenbrock  f = (a − x)² + b(y − x²)²   ∇f = (−2(a − x) − 4b x(y − x²), 2b(y − x²))   minimum (a, a²)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from refnn.utils.tolerance import relative_error

__all__ = ["Surface", "QUADRATIC", "ROSENBROCK", "surface_value", "refnn_path", "keras_path", "keras_twin",
           "compare_paths", "describe_keras_optimizer"]


def surface_value(kind: str, coefficients, x, y):
    """``f(x, y)`` of a surface; ``x``, ``y`` may be floats, NumPy grids or TensorFlow tensors."""
    a, b = coefficients
    if kind == "quadratic":
        return 0.5 * (a * x ** 2 + b * y ** 2)
    if kind == "rosenbrock":
        return (a - x) ** 2 + b * (y - x ** 2) ** 2
    raise ValueError(f"Unknown surface kind. Expected 'quadratic' or 'rosenbrock'. Received: {kind!r}")


@dataclass(frozen=True)
class Surface:
    """A 2-D test function: its formula, start and minimum."""

    key: str
    title: str
    formula: str
    kind: str
    coefficients: tuple[float, float]
    start: tuple[float, float]
    minimum: tuple[float, float]

    def value(self, w):
        """``f(w)`` for a NumPy vector or a TensorFlow variable of shape (2,)."""
        return surface_value(self.kind, self.coefficients, w[0], w[1])

    def gradient(self, w: np.ndarray) -> np.ndarray:
        """``∇f(w)`` from the formula (NumPy)."""
        a, b = self.coefficients
        x, y = w
        if self.kind == "quadratic":
            return np.array([a * x, b * y])
        return np.array([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)])

    def to_dict(self) -> dict:
        return {"key": self.key, "title": self.title, "formula": self.formula, "kind": self.kind,
                "coefficients": list(self.coefficients), "start": list(self.start),
                "minimum": list(self.minimum)}


#: an axis-aligned valley 20 times steeper across (y) than along (x): condition number b/a = 20
QUADRATIC = Surface("quadratic", "ill-conditioned quadratic", "f(x, y) = ½(x² + 20 y²)", "quadratic",
                    (1.0, 20.0), (-9.0, 3.0), (0.0, 0.0))
#: Rosenbrock's banana valley from the classic start (−1.2, 1)
ROSENBROCK = Surface("rosenbrock", "Rosenbrock", "f(x, y) = (1 − x)² + 100 (y − x²)²", "rosenbrock",
                     (1.0, 100.0), (-1.2, 1.0), (1.0, 1.0))


def refnn_path(optimizer, surface: Surface, steps: int) -> np.ndarray:
    """The ``steps + 1`` points of the refnn optimizer's path from ``surface.start``."""
    w = np.array(surface.start, dtype=np.float64)
    params = {"w": w}  # one parameter of shape (2,); the optimizer keys its state by "w"
    points = [w.copy()]
    for _ in range(steps):
        optimizer.apply(params, {"w": surface.gradient(w)}, loss=float(surface.value(w)))
        points.append(w.copy())
    return np.array(points)


def keras_path(keras_optimizer, surface: Surface, steps: int) -> np.ndarray:
    """The ``steps + 1`` points of a Keras optimizer's path, its gradients from ``tf.GradientTape``
    at its own points (the whole loop is one ``tf.function``)."""
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    with floatx("float64"):
        w = keras.Variable(np.array(surface.start, dtype=np.float64), dtype="float64", name="w")
        keras_optimizer.build([w])
        uses_loss = getattr(keras_optimizer, "uses_loss", False)  # iRprop+ compares E_t with E_{t−1}

        @tf.function
        def descend():
            points = tf.TensorArray(tf.float64, size=steps)
            for t in tf.range(steps):
                with tf.GradientTape() as tape:
                    loss = surface.value(w)
                grad = tape.gradient(loss, w)
                if uses_loss:
                    keras_optimizer.apply_gradients([(grad, w)], loss=loss)
                else:
                    keras_optimizer.apply_gradients([(grad, w)])
                points = points.write(t, w.value)
            return points.stack()

        after = descend().numpy()
    return np.concatenate([np.array([surface.start], dtype=np.float64), after])


def keras_twin(optimizer):
    """``(refnn optimizer as Keras rounds its constants, its Keras twin)`` — stock Keras, or
    ``keras_bridge.plugins`` for Rprop."""
    from keras_bridge import optimizer_to_keras
    from keras_bridge.optimizers import keras_exact_optimizer

    mine = keras_exact_optimizer(optimizer)
    return mine, optimizer_to_keras(mine, dtype="float64", plugins=True)


def describe_keras_optimizer(keras_optimizer) -> str:
    """``module.Class(learning_rate=…, momentum=…)``: the twin as a reader would write it."""
    config = keras_optimizer.get_config()
    shown = {k: config[k] for k in ("learning_rate", "momentum", "variant") if config.get(k) not in (None, 0.0)}
    module = "keras_bridge.plugins" if type(keras_optimizer).__module__.startswith("keras_bridge") \
        else "keras.optimizers"
    args = ", ".join(f"{k}={v:.6g}" if isinstance(v, float) else f"{k}={v!r}" for k, v in shown.items())
    return f"{module}.{type(keras_optimizer).__name__}({args})"


def _summary(points: np.ndarray, surface: Surface) -> dict:
    final = points[-1]
    return {"path": points.tolist(), "start_f": float(surface.value(points[0])), "final_f": float(surface.value(final)),
            "distance": float(np.linalg.norm(final - np.asarray(surface.minimum)))}


def compare_paths(optimizer, surface: Surface, steps: int, keras_optimizer=None) -> dict:
    """Run ``optimizer`` in refnn and its Keras twin (or ``keras_optimizer``) from the same start.

    Returns ``{"refnn": {path, start_f, final_f, distance}, "keras": {...}, "max_rel", "keras_optimizer",
    "keras_learning_rate"}`` with ``max_rel`` the worst step's ``max|w_refnn − w_keras| / max|w_keras|``.
    """
    if keras_optimizer is None:
        mine, twin = keras_twin(optimizer)
    else:
        from keras_bridge.optimizers import keras_exact_optimizer

        mine, twin = keras_exact_optimizer(optimizer), keras_optimizer
    ours, theirs = refnn_path(mine, surface, steps), keras_path(twin, surface, steps)
    return {"refnn": _summary(ours, surface), "keras": _summary(theirs, surface),
            "max_rel": max(relative_error(a, b) for a, b in zip(ours, theirs)),
            "keras_optimizer": describe_keras_optimizer(twin), "refnn_optimizer": repr(optimizer),
            "keras_learning_rate": float(np.asarray(twin.learning_rate))}
