"""The benchmark's workloads: their data, the refnn model they train, and the GEMM floor.

Every framework trains the same task — an MLP with ReLU hidden layers, a softmax output and the
categorical crossentropy, Adam (lr 1e-3), shuffled mini-batches with a partial last batch,
float32:

==== ================================== ============ ======
name data                               hidden       batch
==== ================================== ============ ======
W1   scikit-learn digits, 1797 × 64      (64, 64)     32
W2   synthetic, 60000 × 784, 10 classes (256, 128)   128
W3   synthetic, 20000 × 100, 10 classes (512, 512)   512
==== ================================== ============ ======

The *GEMM floor* is the time of the matrix products alone that one epoch of forward and backward
propagation needs (``X W`` per layer; ``Hᵀ dZ`` and ``dZ Wᵀ`` per layer, no ``dX`` for the input),
on preallocated buffers: nothing a NumPy MLP can avoid.
"""

from __future__ import annotations

import time

import numpy as np

import refnn
from refnn import layers, optimizers
from refnn.utils.data import one_hot

__all__ = ["WORKLOADS", "N_CLASSES", "LEARNING_RATE", "make_data", "teacher_data", "targets", "param_bytes",
           "refnn_model", "time_epochs", "gemm_floor_epochs"]

WORKLOADS = {
    "W1": {"data": "digits", "hidden": (64, 64), "batch_size": 32, "epochs": 6},
    "W2": {"data": (60000, 784), "hidden": (256, 128), "batch_size": 128, "epochs": 3},
    "W3": {"data": (20000, 100), "hidden": (512, 512), "batch_size": 512, "epochs": 4},
}
N_CLASSES = 10
LEARNING_RATE = 1e-3


def teacher_data(n_rows: int, n_features: int, seed: int = 0):
    """``x`` float32 (standard normal, ``n_rows × n_features``) and integer labels
    ``argmax(x T)`` of a random linear teacher ``T`` (``n_features × N_CLASSES``): learnable."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_rows, n_features), dtype=np.float32)
    teacher = rng.standard_normal((n_features, N_CLASSES)).astype(np.float32)
    return x, np.argmax(x @ teacher, axis=1).astype(np.int64)


def make_data(workload: str, seed: int = 0):
    """``x`` float32 and integer labels. Synthetic labels come from a random linear teacher, so
    the task is learnable and losses fall as they would on real data."""
    spec = WORKLOADS[workload]["data"]
    if spec == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    return teacher_data(*spec, seed=seed)


def targets(labels: np.ndarray) -> np.ndarray:
    """One-hot float32 targets for the categorical crossentropy."""
    return one_hot(labels, N_CLASSES, dtype=np.float32)


def param_bytes(d: int, hidden) -> int:
    sizes = [d, *hidden, N_CLASSES]
    return 4 * sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))


def refnn_model(x, hidden):
    """The workload's network in refnn, compiled (float32, Adam)."""
    model = refnn.Sequential(
        [*[layers.Dense(h, activation="relu") for h in hidden], layers.Dense(N_CLASSES, activation="softmax")],
        input_dim=x.shape[1], seed=0, dtype="float32",
    )
    model.compile(optimizers.Adam(LEARNING_RATE), "categorical_crossentropy")
    return model


def time_epochs(run_epoch, epochs: int) -> list[float]:
    times = []
    for epoch in range(epochs):
        start = time.perf_counter()
        run_epoch(epoch)
        times.append(time.perf_counter() - start)
    return times


def gemm_floor_epochs(x, labels, hidden, batch_size, epochs):
    """Only the matrix products of forward and backward propagation, on preallocated buffers."""
    rng = np.random.default_rng(0)
    sizes = [x.shape[1], *hidden, N_CLASSES]
    weights = [rng.standard_normal((a, b), dtype=np.float32) * 0.01 for a, b in zip(sizes[:-1], sizes[1:])]
    grads = [np.empty_like(w) for w in weights]
    n = x.shape[0]

    def buffers(rows):
        acts = [np.empty((rows, s), np.float32) for s in sizes[1:]]
        deltas = [np.empty((rows, s), np.float32) for s in sizes[1:-1]]
        return acts, deltas

    full, last = buffers(batch_size), buffers(n % batch_size or batch_size)

    def run_epoch(_):
        for start in range(0, n, batch_size):
            xb = x[start:start + batch_size]
            acts, deltas = full if xb.shape[0] == batch_size else last
            h = xb
            for w, a in zip(weights, acts):
                np.matmul(h, w, out=a)
                h = a
            dz = acts[-1]  # stands in for ∂E/∂Z of the output
            for i in range(len(weights) - 1, -1, -1):
                below = xb if i == 0 else acts[i - 1]
                np.matmul(below.T, dz, out=grads[i])
                if i > 0:
                    np.matmul(dz, weights[i].T, out=deltas[i - 1])
                    dz = deltas[i - 1]

    return time_epochs(run_epoch, epochs)
