"""One worker per framework: each trains a workload and returns its per-epoch wall times.

``run_worker`` is what ``python -m comparisons.bench --worker FRAMEWORK WORKLOAD`` runs, in a
process of its own, so that peak memory and thread pools do not leak between frameworks.
"""

from __future__ import annotations

import os
import resource
import statistics
import time

import numpy as np

from comparisons.bench.lean import lean_training_memory, worker_numpy_lean
from comparisons.bench.workloads import (
    LEARNING_RATE, N_CLASSES, WORKLOADS, gemm_floor_epochs, make_data, param_bytes, refnn_model, targets,
    time_epochs,
)

__all__ = ["WORKERS", "FRAMEWORKS", "run_worker", "refnn_training_memory", "peak_rss_mb"]


def worker_refnn(x, labels, hidden, batch_size, epochs):
    """refnn's ``fit``, one epoch per call."""
    model = refnn_model(x, hidden)
    y = targets(labels)
    return time_epochs(lambda _: model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=True, verbose=0), epochs)


def refnn_training_memory(x, labels, hidden, batch_size) -> float:
    """Bytes that building and training refnn for one epoch allocate on top of the data, traced
    exactly (``tracemalloc`` sees NumPy's allocations): parameters, gradients, optimizer state,
    per-batch activations and gathers. RSS deltas are too coarse for the small workloads."""
    import tracemalloc

    y = targets(labels)
    tracemalloc.start()
    model = refnn_model(x, hidden)
    model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=True, verbose=0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def worker_keras(x, labels, hidden, batch_size, epochs):
    """Keras's ``fit``, timed per epoch by a callback."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((x.shape[1],)), *[keras.layers.Dense(h, activation="relu") for h in hidden],
                              keras.layers.Dense(N_CLASSES, activation="softmax")])
    model.compile(keras.optimizers.Adam(LEARNING_RATE), "categorical_crossentropy")
    y = targets(labels)

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    timer = EpochTimer()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0, callbacks=[timer])
    return timer.times


def worker_sklearn(x, labels, hidden, batch_size, epochs):
    """scikit-learn's ``MLPClassifier``, one ``partial_fit`` (one epoch) per call."""
    import warnings

    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=hidden, solver="adam", learning_rate_init=LEARNING_RATE,
                        batch_size=batch_size, shuffle=True, random_state=0)
    classes = np.arange(N_CLASSES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return time_epochs(lambda _: clf.partial_fit(x, labels, classes=classes), epochs)


def worker_torch(x, labels, hidden, batch_size, epochs):
    """PyTorch, a plain training loop."""
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    sizes = [x.shape[1], *hidden]
    mods = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        mods += [torch.nn.Linear(a, b), torch.nn.ReLU()]
    net = torch.nn.Sequential(*mods, torch.nn.Linear(sizes[-1], N_CLASSES))
    opt = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    n = x.shape[0]

    def run_epoch(_):
        order = torch.randperm(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    return time_epochs(run_epoch, epochs)


WORKERS = {
    "gemm_floor": gemm_floor_epochs,
    "numpy_lean": worker_numpy_lean,
    "refnn": worker_refnn,
    "keras": worker_keras,
    "sklearn": worker_sklearn,
    "torch": worker_torch,
}
FRAMEWORKS = tuple(WORKERS)
#: the frameworks whose allocations ``tracemalloc`` sees (NumPy's), traced for one epoch
_TRAINING_MEMORY = {"refnn": refnn_training_memory, "numpy_lean": lean_training_memory}


def run_worker(framework: str, workload: str) -> dict:
    """Run one measurement in this process and return it as a dict."""
    spec = WORKLOADS[workload]
    x, labels = make_data(workload)
    baseline = peak_rss_mb()
    times = WORKERS[framework](x, labels, spec["hidden"], spec["batch_size"], spec["epochs"])
    timed = times[1:] if len(times) > 1 else times
    extra = {}
    if framework in _TRAINING_MEMORY:
        memory = _TRAINING_MEMORY[framework](x, labels, spec["hidden"], spec["batch_size"])
        extra["training_memory_mb"] = memory / 2**20
    return {
        **extra,
        "framework": framework,
        "workload": workload,
        "ms_per_epoch": 1000 * statistics.median(timed),
        "epoch_times_s": times,
        "peak_rss_mb": peak_rss_mb(),
        "rss_before_training_mb": baseline,
        "data_mb": (x.nbytes + labels.size * 4 * N_CLASSES) / 2**20,
        "params_mb": param_bytes(x.shape[1], spec["hidden"]) / 2**20,
    }


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB
