"""Training runs under ``tf.distribute``, in a process of their own (the logical devices and the
multi-worker cluster must be set up before TensorFlow starts). Used by ``test_distribute.py``.

``python distributed_runs.py mirrored``: for each case, the same model trained on one device and
under ``MirroredStrategy`` on two logical CPUs; prints ``{case: {"single": curve, "mirrored":
curve}}`` as JSON.

``python distributed_runs.py worker INDEX PORT0 PORT1``: one of two workers of a
``MultiWorkerMirroredStrategy`` cluster on 127.0.0.1; prints ``{case: curve}`` as JSON (worker 0)
or nothing.
"""

from __future__ import annotations

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CASES = {  # name: (Keras optimizer or "lm", dtype, epochs)
    "adam-float64": ("adam", "float64", 6),
    "adam-float32": ("adam", "float32", 6),
    "rprop+-float64": ("rprop+", "float64", 12),
    "rprop--float64": ("rprop-", "float64", 12),
    "irprop+-float64": ("irprop+", "float64", 12),
    "irprop--float64": ("irprop-", "float64", 12),
    "rprop+-float32": ("rprop+", "float32", 12),
    "quickprop-float64": ("quickprop", "float64", 12),
    "quickprop-float32": ("quickprop", "float32", 12),
    "lm-float64": ("lm", "float64", 6),
    "lm-float32": ("lm", "float32", 4),
}
MULTI_WORKER_CASES = ("adam-float64", "irprop+-float64", "lm-float64")


def _data(dtype):
    import numpy as np

    p = np.linspace(-1, 1, 40)[:, None]
    return p.astype(dtype), (0.5 + 0.25 * np.sin(3 * np.pi * p)).astype(dtype)


def _model(kind: str, dtype: str, weights=None):
    """A 1-5-1 tanh network (full batch, 40 rows), built in the current strategy's scope."""
    import keras

    from keras_bridge import plugins

    layers = [keras.Input((1,), dtype=dtype), keras.layers.Dense(5, activation="tanh", dtype=dtype,
                                                                 kernel_initializer=keras.initializers.GlorotUniform(3)),
              keras.layers.Dense(1, dtype=dtype, kernel_initializer=keras.initializers.GlorotUniform(4))]
    if kind == "lm":
        model = plugins.LevenbergMarquardtModel(layers, mu=0.01)
        model.compile(loss="mse")
    else:
        optimizer = {"adam": lambda: keras.optimizers.Adam(0.05), "quickprop": lambda: plugins.Quickprop(0.05)}.get(
            kind, lambda: plugins.Rprop(kind, learning_rate=0.05))()
        model = keras.Sequential(layers)
        model.compile(optimizer, "mse")
    if weights is not None:
        model.set_weights(weights)
    return model


def _fit(model, dtype, epochs):
    from keras_bridge import floatx

    x, y = _data(dtype)
    with floatx(dtype):
        return [float(v) for v in model.fit(x, y, epochs=epochs, batch_size=40, shuffle=False,
                                            verbose=0).history["loss"]]


def mirrored() -> dict:
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from keras_bridge import floatx

    out = {}
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    for name, (kind, dtype, epochs) in CASES.items():
        with floatx(dtype):
            single = _model(kind, dtype)
            weights = single.get_weights()
            with strategy.scope():
                mirrored_model = _model(kind, dtype, weights)
        out[name] = {"single": _fit(single, dtype, epochs), "mirrored": _fit(mirrored_model, dtype, epochs)}
        if kind == "lm":  # μ and the accepted steps, each counted once
            out[name]["state"] = {side: [m.mu, m.lm_iterations] for side, m in
                                  (("single", single), ("mirrored", mirrored_model))}
    return out


def worker(index: int, ports: list[str]) -> dict:
    os.environ["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                          "task": {"type": "worker", "index": index}})
    import tensorflow as tf

    from keras_bridge import floatx

    from keras_bridge import distributed

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    out = {}
    for name in MULTI_WORKER_CASES:
        kind, dtype, epochs = CASES[name]
        x, y = _data(dtype)
        with floatx(dtype):
            with strategy.scope():
                model = _model(kind, dtype)
            out[name] = distributed.fit(model, x, y, epochs=epochs, batch_size=40, strategy=strategy)["loss"]
    return out


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    if sys.argv[1] == "mirrored":
        print(json.dumps(mirrored()))
    else:
        result = worker(int(sys.argv[2]), sys.argv[3:5])
        if sys.argv[2] == "0":
            print(json.dumps(result))
