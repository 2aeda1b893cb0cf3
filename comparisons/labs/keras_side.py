"""The Keras column of the checker: the same quantities computed live by TensorFlow/Keras, float64.

Gradients come from ``tf.GradientTape`` on the scalar the checker differentiates
(``E = Σ Y ⊙ R`` for a layer, the loss itself for a loss); optimizer steps from Keras's own
optimizers fed the same gradients. TensorFlow is imported inside each function, so the checker
runs without it when the Keras column is switched off.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dense", "activation", "loss", "sgd_steps", "adam_steps"]

F64 = "float64"


def dense(W: np.ndarray, B: np.ndarray, X: np.ndarray, R: np.ndarray) -> dict[str, np.ndarray]:
    """``keras.layers.Dense`` with kernel ``W`` and bias ``B``: ``Y`` and the gradients of
    ``E = Σ Y ⊙ R`` with respect to the kernel, the bias and ``X``."""
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    with floatx(F64):
        layer = keras.layers.Dense(W.shape[1])
        layer.build((None, W.shape[0]))
        layer.set_weights([W, B])
        x = tf.constant(X)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            energy = tf.reduce_sum(y * tf.constant(R))
        dW, dB, dX = tape.gradient(energy, [layer.kernel, layer.bias, x])
    return {"Y": y.numpy(), "dW": dW.numpy(), "dB": dB.numpy(), "dX": dX.numpy()}


def activation(name: str, Z: np.ndarray, R: np.ndarray) -> dict[str, np.ndarray]:
    """``keras.activations.get(name)`` at ``Z``: ``A`` and the gradient of ``E = Σ A ⊙ R``."""
    import keras
    import tensorflow as tf

    z = tf.constant(Z, dtype=tf.float64)
    with tf.GradientTape() as tape:
        tape.watch(z)
        a = keras.activations.get(name)(z)
        energy = tf.reduce_sum(a * tf.constant(R))
    return {"A": np.asarray(a), "dZ": tape.gradient(energy, z).numpy()}


def loss(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Keras's ``"mse"`` or ``CategoricalCrossentropy(from_logits=True)``: the value and its
    gradient with respect to ``y_pred``."""
    import keras
    import tensorflow as tf

    from keras_bridge import floatx

    with floatx(F64):
        function = (keras.losses.MeanSquaredError() if name == "mse"
                    else keras.losses.CategoricalCrossentropy(from_logits=True))
        pred = tf.constant(y_pred)
        with tf.GradientTape() as tape:
            tape.watch(pred)
            value = function(tf.constant(y_true), pred)
        gradient = tape.gradient(value, pred)
    return {"value": np.asarray(value), "gradient": gradient.numpy()}


def sgd_steps(params: dict, grads: list[dict], learning_rate: float, momentum: float) -> dict:
    """The EMA momentum's steps, by Keras's velocity form ``m ← μm − lr'·g; W ← W + m``.

    With ``lr' = lr·(1 − μ)`` the velocity is ``m = −lr·V`` at every step (``V`` the moving average
    ``V ← μV + (1 − μ)g``), so both take the same steps at a constant learning rate.
    ``{path: (T, *shape) steps W_{t−1} − W_t}``.
    """
    import keras

    return _steps(lambda: keras.optimizers.SGD(learning_rate * (1.0 - momentum), momentum=momentum), params, grads)


def adam_steps(params: dict, grads: list[dict], learning_rate: float, beta_1: float, beta_2: float) -> dict:
    """Keras's Adam with ε = 0, where its ε placement (on √v) and Algorithm 1's (on √v̂) agree:
    ``lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)·m/√v = lr·m̂/√v̂``. ``{path: (T, *shape) steps}``."""
    import keras

    return _steps(lambda: keras.optimizers.Adam(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=0.0),
                  params, grads)


def _steps(make_optimizer, params: dict, grads: list[dict]) -> dict:
    # element-wise rules: one optimizer per parameter takes the steps one optimizer takes for all
    from comparisons.conventions.measuring import keras_trajectory, steps_of

    return {path: steps_of(keras_trajectory(make_optimizer, params[path], np.stack([g[path] for g in grads]), F64))
            for path in params}
