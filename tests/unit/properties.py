"""Random small models for the property tests: what a case is, how it is drawn, how it trains.

A ``Case`` is plain data (its ``repr`` is the reproducer hypothesis prints on a failure): a seed,
the data's size, 0–2 hidden Dense layers (units, activation, regularizer, dropout rate) and a head
(output layer and loss). ``Training`` adds an optimizer and how ``fit`` is called.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import refnn
from refnn import initializers, layers, losses, optimizers, regularizers
from refnn.optimizers import schedules

HIDDEN_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax")
REGULARIZERS = {
    "none": lambda: None,
    "l1": lambda: regularizers.L1(0.01),
    "l2": lambda: regularizers.L2(0.02),
    "l1l2": lambda: regularizers.L1L2(l1=0.005, l2=0.01),
}
# name: (output units, output activation, loss, kind of targets)
HEADS = {
    "mse-linear": (2, "linear", lambda: "mse", "real"),
    "mse-tanh": (2, "tanh", lambda: "mse", "real"),
    "mae-linear": (2, "linear", lambda: "mae", "real"),
    "sse-linear": (1, "linear", lambda: "sse", "real"),
    "bce-sigmoid": (1, "sigmoid", lambda: "binary_crossentropy", "binary"),
    "bce-logits": (2, "linear", lambda: losses.BinaryCrossentropy(from_logits=True), "binary"),
    "cce-softmax": (3, "softmax", lambda: "categorical_crossentropy", "onehot"),
    "cce-logits-smoothed": (3, "linear", lambda: losses.CategoricalCrossentropy(from_logits=True,
                                                                               label_smoothing=0.1), "onehot"),
    "scce-softmax": (3, "softmax", lambda: "sparse_categorical_crossentropy", "ids"),
}
SUM_OF_SQUARES_HEADS = ("mse-linear", "mse-tanh", "sse-linear")

# name: factory. Clipping, schedules and every update rule; learning rates small enough that no
# run diverges (divergence is round-off amplified, not a property of the code).
OPTIMIZERS = {
    "sgd": lambda: optimizers.SGD(0.05),
    "sgd-nesterov-clipnorm": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True, clipnorm=1.0),
    "sgd-ema-staircase": lambda: optimizers.SGD(schedules.ExponentialDecay(0.05, 3, 0.5, staircase=True),
                                                momentum=0.9, momentum_form="ema"),
    "rmsprop-centered-clipvalue": lambda: optimizers.RMSprop(0.01, centered=True, momentum=0.5, clipvalue=0.5),
    "adam-amsgrad-inverse-time": lambda: optimizers.Adam(schedules.InverseTimeDecay(0.01, 2, 0.5), amsgrad=True),
    "adamw-global-clipnorm": lambda: optimizers.AdamW(0.01, global_clipnorm=1.0),
    "adagrad": lambda: optimizers.Adagrad(0.1),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "adamax-cosine": lambda: optimizers.Adamax(schedules.CosineDecay(0.01, 10, warmup_target=0.02,
                                                                     warmup_steps=3)),
    "nadam": lambda: optimizers.Nadam(0.01),
    "rprop+": lambda: optimizers.Rprop("rprop+", learning_rate=0.01),
    "irprop+": lambda: optimizers.Rprop("irprop+", learning_rate=0.01),
    "quickprop": lambda: optimizers.Quickprop(0.05),
    "levenberg-marquardt": lambda: optimizers.LevenbergMarquardt(mu=1.0),
}


def regularizer(name: str):
    return REGULARIZERS[name]()


@dataclass(frozen=True)
class Case:
    """A small model and its data, reproducible from its fields alone."""

    seed: int
    rows: int
    input_dim: int
    hidden: tuple  # ((units, activation, regularizer name, dropout rate), ...)
    head: str

    def model(self, optimizer="sgd", dropout: bool = True, random_biases: bool = False, seed=None):
        """The compiled float64 model. ``random_biases`` starts every bias away from 0, so no ReLU
        sits on its kink at a row whose inputs are all 0 (finite differences straddle a kink)."""
        bias = (lambda i: initializers.RandomNormal(0.0, 0.5, seed=self.seed + i)) if random_biases \
            else (lambda i: "zeros")
        stack = []
        for i, (units, activation, reg, rate) in enumerate(self.hidden):
            stack.append(layers.Dense(units, activation=activation, kernel_regularizer=regularizer(reg),
                                      bias_regularizer=regularizer(reg), bias_initializer=bias(i)))
            if dropout and rate:
                stack.append(layers.Dropout(rate))
        units, activation, loss, _ = HEADS[self.head]
        stack.append(layers.Dense(units, activation=activation, bias_initializer=bias(len(self.hidden))))
        model = refnn.Sequential(stack, input_dim=self.input_dim, seed=self.seed if seed is None else seed)
        model.compile(optimizer, loss())
        return model

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.seed)
        x = rng.standard_normal((self.rows, self.input_dim))
        units, _, _, kind = HEADS[self.head]
        labels = rng.integers(0, units if kind != "binary" else 2, size=(self.rows, units))
        y = {"real": lambda: np.sin(x.sum(axis=1, keepdims=True) + np.arange(units)),
             "binary": lambda: labels.astype(np.float64),
             "onehot": lambda: np.eye(units)[labels[:, 0]],
             "ids": lambda: labels[:, 0]}[kind]()
        return x, y


@st.composite
def cases(draw, max_rows: int = 12) -> Case:
    hidden = draw(st.lists(st.tuples(st.integers(1, 5), st.sampled_from(HIDDEN_ACTIVATIONS),
                                     st.sampled_from(sorted(REGULARIZERS)), st.sampled_from((0.0, 0.2, 0.5))),
                           max_size=2))
    return Case(seed=draw(st.integers(0, 2**16)), rows=draw(st.integers(1, max_rows)),
                input_dim=draw(st.integers(1, 4)), hidden=tuple(hidden), head=draw(st.sampled_from(sorted(HEADS))))


@dataclass(frozen=True)
class Training:
    """A case, an optimizer and the ``fit`` arguments."""

    case: Case
    optimizer: str
    batch_size: int
    shuffle: bool
    validation_split: float

    def model(self, seed=None):
        return self.case.model(OPTIMIZERS[self.optimizer](), seed=seed)

    def fit(self, model, epochs: int) -> dict:
        x, y = self.case.data()
        return model.fit(x, y, epochs=epochs, batch_size=self.batch_size, shuffle=self.shuffle,
                         validation_split=self.validation_split, verbose=0).history


@st.composite
def trainings(draw) -> Training:
    case = draw(cases())
    names = [n for n in OPTIMIZERS if n != "levenberg-marquardt" or _sum_of_squares(case)]
    optimizer = draw(st.sampled_from(names))
    validation_split = draw(st.sampled_from((0.0, 0.25))) if case.rows >= 4 else 0.0
    n_train = int(case.rows * (1 - validation_split))  # Keras's split: the last rows are held out
    full_batch = OPTIMIZERS[optimizer]().requires_full_batch
    batch_size = n_train if full_batch else draw(st.integers(1, n_train))
    return Training(case, optimizer, batch_size, draw(st.booleans()), validation_split)


def _sum_of_squares(case: Case) -> bool:
    """Levenberg–Marquardt's domain: a sum-of-squares loss with L2 penalties only."""
    return case.head in SUM_OF_SQUARES_HEADS and all(reg in ("none", "l2") for _, _, reg, _ in case.hidden)


def same_weights(a, b) -> bool:
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(), strict=True))
