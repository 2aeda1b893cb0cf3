"""A seeded parity fuzz: random training set-ups, refnn's ``fit`` against the Keras twin's own
compiled ``fit`` (``compare.training``), float64, within ``TOLERANCES["training"]["float64"]``.

Each seed draws one configuration: 1–2 hidden Dense layers of every activation with L1/L2
penalties, an output and loss (MSE, MAE, BCE, CCE with label smoothing, sparse CCE; on
probabilities or logits), one of Keras's own optimizers with its options (momentum, Nesterov,
AMSGrad, centred RMSprop, weight decay), gradient clipping and a learning-rate schedule, a batch
size (partial last batches included), shuffling, a validation split and EarlyStopping. Keras runs
its real ``fit`` (compiled) on refnn's batch order. Rprop, Quickprop and Levenberg–Marquardt are
not drawn: in Keras they are refnn's own port, not an independent reference.

Round-off classes are excluded by construction, not by a looser tolerance: inputs are standard
normal and layers narrow, so no sigmoid or tanh saturates; learning rates are small and runs
short, so no trajectory turns chaotic and amplifies ulps; dropout is not drawn (TensorFlow's mask
generator cannot be reproduced; dropout has its own parity tests). ``REFNN_FUZZ_SEEDS=a:b`` runs
other seeds.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import compare  # noqa: E402
from refnn import callbacks, layers, losses, optimizers, regularizers  # noqa: E402
from refnn.optimizers import schedules  # noqa: E402

pytestmark = pytest.mark.slow

_first, _last = map(int, os.environ.get("REFNN_FUZZ_SEEDS", "0:30").split(":"))
SEEDS = range(_first, _last)

# (output units, activation, loss)
HEADS = [
    (2, "linear", lambda: "mse"),
    (2, "tanh", lambda: "mse"),
    (1, "linear", lambda: "mae"),
    (1, "sigmoid", lambda: "binary_crossentropy"),
    (2, "linear", lambda: losses.BinaryCrossentropy(from_logits=True)),
    (3, "softmax", lambda: "categorical_crossentropy"),
    (3, "linear", lambda: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)),
    (3, "softmax", lambda: "sparse_categorical_crossentropy"),
    (3, "linear", lambda: losses.SparseCategoricalCrossentropy(from_logits=True)),
]

# name: (factory(learning rate or schedule, rng, clipping), base learning rate)
OPTIMIZERS = {
    "sgd": (lambda lr, rng, clip: optimizers.SGD(lr, momentum=float(rng.choice([0.0, 0.9])),
                                                  nesterov=bool(rng.integers(2)), **clip), 0.05),
    "rmsprop": (lambda lr, rng, clip: optimizers.RMSprop(lr, centered=bool(rng.integers(2)),
                                                          momentum=float(rng.choice([0.0, 0.5])), **clip), 0.005),
    "adam": (lambda lr, rng, clip: optimizers.Adam(lr, amsgrad=bool(rng.integers(2)), **clip), 0.01),
    "adamw": (lambda lr, rng, clip: optimizers.AdamW(lr, weight_decay=0.01, **clip), 0.01),
    "adagrad": (lambda lr, rng, clip: optimizers.Adagrad(lr, **clip), 0.05),
    "adadelta": (lambda lr, rng, clip: optimizers.Adadelta(lr, **clip), 1.0),
    "adamax": (lambda lr, rng, clip: optimizers.Adamax(lr, **clip), 0.01),
    "nadam": (lambda lr, rng, clip: optimizers.Nadam(lr, **clip), 0.01),
}

SCHEDULES = {
    "constant": lambda lr, rng: lr,
    "exponential": lambda lr, rng: schedules.ExponentialDecay(lr, int(rng.integers(1, 12)), 0.7,
                                                              staircase=bool(rng.integers(2))),
    "inverse_time": lambda lr, rng: schedules.InverseTimeDecay(lr, int(rng.integers(1, 12)), 0.5,
                                                               staircase=bool(rng.integers(2))),
    "polynomial": lambda lr, rng: schedules.PolynomialDecay(lr, int(rng.integers(2, 20)), lr / 10,
                                                            cycle=bool(rng.integers(2))),
    "cosine": lambda lr, rng: schedules.CosineDecay(lr / 2, int(rng.integers(2, 20)), warmup_target=lr,
                                                    warmup_steps=int(rng.integers(0, 4))),
    "piecewise": lambda lr, rng: schedules.PiecewiseConstantDecay([3, 7], [lr, lr / 2, lr / 4]),
}
CLIPPING = [{}, {"clipnorm": 0.5}, {"clipvalue": 0.2}, {"global_clipnorm": 0.5}]
REGULARIZERS = [None, regularizers.L1(0.005), regularizers.L2(0.01), regularizers.L1L2(0.002, 0.005)]


def configuration(seed: int) -> dict:
    """One random set-up, all drawn from ``seed``; ``describe`` prints it on a failure."""
    rng = np.random.default_rng(seed)
    rows, width = int(rng.integers(12, 41)), int(rng.integers(2, 6))
    hidden = [(int(rng.integers(2, 9)), str(rng.choice(["relu", "tanh", "sigmoid", "linear", "softmax"])),
               REGULARIZERS[rng.integers(len(REGULARIZERS))]) for _ in range(int(rng.integers(1, 3)))]
    head = int(rng.integers(len(HEADS)))
    name = str(rng.choice(sorted(OPTIMIZERS)))
    schedule = str(rng.choice(sorted(SCHEDULES)))
    clip = CLIPPING[rng.integers(len(CLIPPING))]
    validation_split = float(rng.choice([0.0, 0.2]))
    n_train = int(rows * (1 - validation_split))
    early_stopping = bool(rng.integers(2))
    return dict(
        seed=seed, rows=rows, width=width, hidden=hidden, head=head, optimizer=name, schedule=schedule,
        clip=clip, batch_size=int(rng.integers(1, n_train + 1)), shuffle=bool(rng.integers(2)),
        validation_split=validation_split, epochs=int(rng.integers(2, 6)),
        early_stopping=dict(monitor="val_loss" if validation_split else "loss", patience=int(rng.integers(0, 2)),
                            restore_best_weights=bool(rng.integers(2))) if early_stopping else None,
        rng=rng)


def describe(config: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in config.items() if k != "rng")


def build(config: dict):
    rng = config["rng"]
    units, activation, loss = HEADS[config["head"]]
    stack = [layers.Dense(n, activation=a, kernel_regularizer=r, bias_regularizer=r) for n, a, r in config["hidden"]]
    model = refnn.Sequential([*stack, layers.Dense(units, activation=activation)], input_dim=config["width"],
                             seed=config["seed"])
    factory, lr = OPTIMIZERS[config["optimizer"]]
    model.compile(factory(SCHEDULES[config["schedule"]](lr, rng), rng, config["clip"]), loss())
    x = rng.standard_normal((config["rows"], config["width"]))
    loss_name = model.loss.name
    if "sparse" in loss_name:
        y = rng.integers(0, units, config["rows"])
    elif "categorical" in loss_name:
        y = np.eye(units)[rng.integers(0, units, config["rows"])]
    elif "binary" in loss_name:
        y = rng.integers(0, 2, (config["rows"], units)).astype(np.float64)
    else:
        y = np.tanh(x[:, :1] - x[:, -1:] + np.arange(units))
    return model, x, y


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_random_training_set_ups_agree_with_keras_fit(seed):
    config = configuration(seed)
    model, x, y = build(config)
    stop = config["early_stopping"]
    result = compare.training(model, x, y, epochs=config["epochs"], batch_size=config["batch_size"],
                              shuffle=config["shuffle"], validation_split=config["validation_split"],
                              callbacks=[callbacks.EarlyStopping(**stop)] if stop else None)
    assert result.passed, f"{describe(config)}\n{result}"
    assert not result.known_differences


def test_the_fuzz_covers_every_option():
    """Over the default seeds every head, optimizer, schedule and clipping mode is drawn, with
    partial last batches, validation and EarlyStopping: a change to the drawing that narrows the
    fuzz fails here."""
    configs = [configuration(seed) for seed in range(0, 30)]
    assert {c["head"] for c in configs} == set(range(len(HEADS)))
    assert {c["optimizer"] for c in configs} == set(OPTIMIZERS)
    assert {c["schedule"] for c in configs} == set(SCHEDULES)
    assert {tuple(c["clip"]) for c in configs} == {tuple(c) for c in CLIPPING}
    assert any(c["rows"] * (1 - c["validation_split"]) % c["batch_size"] for c in configs)
    assert any(c["validation_split"] for c in configs) and any(c["early_stopping"] for c in configs)
