"""Training under ``tf.distribute`` gives the single-device curve: Adam, every Rprop variant,
Quickprop and Levenberg–Marquardt under ``MirroredStrategy`` on two logical CPUs, and Adam, iRprop+
and Levenberg–Marquardt on a two-worker ``MultiWorkerMirroredStrategy`` cluster on 127.0.0.1.

The runs need a process of their own (``distributed_runs.py``: logical devices and the cluster
exist only if set up before TensorFlow starts). Full batch, 40 rows: each of the two replicas
holds 20. Agreement: float64 ≤ 1e-10 (measured ≤ 1e-16 for the optimizers; LM ~1e-12, its normal
equations summed over two shards); float32 ≤ ``TOLERANCES["training"]["float32"]`` — the
all-reduce adds two half-batch gradients where one device sums the whole batch, a different
rounding that Quickprop's secant step ``s/(s' − s)·Δw`` amplifies most (measured ≤ 2e-7).
Rprop, Quickprop and Levenberg–Marquardt are refnn's own Keras port (``keras_bridge.plugins``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from keras_bridge import distributed, floatx  # noqa: E402
from refnn.utils.tolerance import TOLERANCES, relative_error  # noqa: E402
from tests.keras.distributed_runs import CASES, MULTI_WORKER_CASES, _data, _model  # noqa: E402

pytestmark = pytest.mark.slow
RUNS = os.path.join(os.path.dirname(__file__), "distributed_runs.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tolerance(case: str) -> float:
    return 1e-10 if CASES[case][1] == "float64" else TOLERANCES["training"]["float32"]


def _run(*args):
    env = dict(os.environ, PYTHONPATH=ROOT, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.Popen([sys.executable, RUNS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def _result(process, deadline: float) -> dict:
    """The JSON a run printed, waiting until ``deadline`` (``time.monotonic()``) at most."""
    timeout = max(deadline - time.monotonic(), 1.0)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"the distributed run did not finish in time:\n{err[-3000:]}")
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]) if out.strip() else {}


@pytest.fixture(scope="module")
def mirrored():
    return _result(_run("mirrored"), time.monotonic() + 300)


@pytest.mark.parametrize("case", list(CASES))
def test_mirrored_strategy_gives_the_single_device_curve(mirrored, case):
    curves = mirrored[case]
    assert len(curves["mirrored"]) == CASES[case][2]
    assert relative_error(curves["mirrored"], curves["single"]) <= _tolerance(case)
    assert curves["single"][-1] < 0.2 * curves["single"][0]  # a real training run
    if "state" in curves:  # LM: one step per epoch for all replicas (was: one per replica, counted twice)
        (mu, steps), (mirrored_mu, mirrored_steps) = curves["state"]["single"], curves["state"]["mirrored"]
        assert mirrored_steps == steps == CASES[case][2] and relative_error(mirrored_mu, mu) <= 1e-12


def _free_ports(n: int) -> list[str]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [str(s.getsockname()[1]) for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_a_two_worker_cluster_gives_the_single_device_curve(mirrored):
    """Two worker processes on 127.0.0.1 (bounded to a minute), ``keras_bridge.distributed.fit``:
    Keras 3's own ``fit`` fails under this strategy (keras-team/keras#20585)."""
    ports = _free_ports(2)
    deadline = time.monotonic() + 60  # both workers together: one minute
    workers = [_run("worker", str(i), *ports) for i in range(2)]
    results = [_result(worker, deadline) for worker in workers]
    chief = results[0]
    assert set(chief) == set(MULTI_WORKER_CASES)
    for case in MULTI_WORKER_CASES:
        assert relative_error(chief[case], mirrored[case]["single"]) <= _tolerance(case), case


@pytest.mark.parametrize("kind", ["adam", "irprop+", "lm"])
def test_distributed_fit_without_a_strategy_is_keras_fit(kind):
    """The loop of ``distributed.fit`` is Keras's: on one device it gives Keras's own curve."""
    x, y = _data("float64")
    with floatx("float64"):
        theirs = _model(kind, "float64")
        mine = _model(kind, "float64", theirs.get_weights())
        expected = theirs.fit(x, y, epochs=5, batch_size=40, shuffle=False, verbose=0).history["loss"]
        history = distributed.fit(mine, x, y, epochs=5)
    assert relative_error(history["loss"], expected) <= 1e-10
    np.testing.assert_allclose(mine.get_weights()[0], theirs.get_weights()[0], rtol=1e-10)


@pytest.mark.parametrize("kind", ["rprop+", "quickprop", "lm"])
def test_distributed_fit_refuses_mini_batches_for_full_batch_methods(kind):
    x, y = _data("float64")
    with floatx("float64"):
        model = _model(kind, "float64")
        with pytest.raises(ValueError, match=r"is a full-batch method.*batch_size >= 40.*Received: batch_size=16"):
            distributed.fit(model, x, y, batch_size=16)
