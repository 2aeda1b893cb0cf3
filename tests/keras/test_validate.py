"""``keras_bridge.compare.validate`` and ``refnn-compare validate``: a Keras user's own model and
data against refnn in one call — models built the way Keras users build them (``keras.Input``,
string and object metrics, dropout, callbacks, a model that has already trained)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("sklearn")

import refnn  # noqa: E402
from comparisons import validate as cli  # noqa: E402
from comparisons.cli import main as refnn_compare  # noqa: E402
from keras_bridge import compare, floatx  # noqa: E402
from keras_bridge.compare.results import Comparison, Row  # noqa: E402
from refnn import layers  # noqa: E402

pytestmark = pytest.mark.slow


def _iris():
    """Standardised inputs and one-hot targets."""
    from sklearn.datasets import load_iris

    data = load_iris()
    x = (data.data - data.data.mean(axis=0)) / data.data.std(axis=0)
    return x, np.eye(3)[data.target]


def _users_model(loss="categorical_crossentropy", output="softmax", name="users_mlp"):
    """How a Keras user writes it: ``keras.Input``, dropout, a string and three metric objects (AUC
    among them; one, CosineSimilarity, is not a refnn metric)."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dropout(0.25), keras.layers.Dense(3, activation=output)], name=name)
    model.compile(keras.optimizers.Adam(0.01), loss,
                  metrics=["accuracy", keras.metrics.CategoricalAccuracy(name="acc2"), keras.metrics.AUC(name="auc"),
                           keras.metrics.CosineSimilarity()])
    return model


def test_a_users_float32_keras_model_validates_in_both_dtypes():
    x, y = _iris()
    model = _users_model()
    model.fit(x, y, epochs=1, verbose=0)  # a model that has trained: its optimizer has state
    before = [w.copy() for w in model.get_weights()]
    result = compare.validate(model, x, y, n_steps=3, epochs=2)
    assert result.passed, result
    assert [(d, c) for d, c, _ in result.checks] == [(d, c) for d in ("float64", "float32")
                                                    for c in ("forward", "gradients", "steps", "fit")]
    notes = " ".join(result.notes)
    assert "metric 'CosineSimilarity': no refnn counterpart" in notes
    assert re.search(r"dropout \(dropout(_\d+)?\): compared in inference", notes)  # Keras numbers its names
    assert "optimizer's state (5 steps taken) was not used" in notes
    float64 = {c: r for d, c, r in result.checks if d == "float64"}
    assert float64["gradients"].max_rel < 1e-14 and float64["fit"].max_rel < 1e-13
    assert {"history/acc2", "history/accuracy", "history/auc"} <= {row.name for row in float64["fit"].rows}
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))  # not changed
    table = str(result)
    assert table.startswith("validate 'users_mlp' (float32) — refnn vs Keras: PASSED")
    assert "[float64 · steps]" in table and "loss before each step" in table


def test_a_keras_behaviour_is_labelled_where_it_occurs():
    """A sigmoid output with crossentropy: Keras computes the softmax crossentropy of the logits."""
    x, y = _iris()
    with floatx("float64"):
        model = _users_model(loss="categorical_crossentropy", output="sigmoid")
    result = compare.validate(model, x, y, n_steps=2, epochs=1)
    assert result.passed
    statuses = dict(((d, c), s) for d, c, s, _, _ in result.summary_rows())
    assert statuses[("float64", "forward")] == "ok (known differences)"
    assert "Keras computes this loss from the sigmoid's logits" in str(result)


def test_a_refnn_model_validates_in_its_dtype():
    x, y = _iris()
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(3, activation="softmax")],
                             input_dim=4, seed=0)
    model.compile("rmsprop", "sparse_categorical_crossentropy")
    result = compare.validate(model, x, y.argmax(axis=1), n_steps=2, epochs=1)
    assert result.passed and [d for d, _, _ in result.checks] == ["float64"] * 4


def _saved(tmp_path, model=None):
    x, y = _iris()
    (model or _users_model()).save(tmp_path / "users.keras")
    np.savez(tmp_path / "iris.npz", x=x, y=y)
    return tmp_path / "users.keras", tmp_path / "iris.npz"


def test_the_command_validates_a_keras_file_and_writes_the_report(tmp_path, capsys):
    path, data = _saved(tmp_path)
    out = tmp_path / "report"
    status = refnn_compare(["validate", str(path), "--data", str(data), "--out", str(out), "--steps", "2",
                            "--epochs", "1"])
    printed = capsys.readouterr().out
    assert status == 0, printed
    assert "validate 'users_mlp' (float32) — refnn vs Keras: PASSED" in printed
    page = (out / "index.html").read_text()
    assert "<img" not in page and "http" not in page.replace("http-equiv", "")  # self-contained
    assert "Optimizer steps on the model&#x27;s own gradients" in page and "max |keras|" in page
    summary = json.loads((out / "report.json").read_text())
    assert summary["passed"] and len(summary["checks"]) == 8
    assert "metric 'CosineSimilarity'" in (out / "report.md").read_text()


def test_the_command_takes_a_bundled_dataset(tmp_path, capsys):
    path, _ = _saved(tmp_path)
    assert refnn_compare(["validate", str(path), "--dataset", "iris", "--out", str(tmp_path / "r"),
                          "--steps", "1", "--epochs", "1"]) == 0


@pytest.mark.parametrize("args, message", [
    (["MISSING.keras", "--dataset", "iris"], r"does not exist"),
    (["DATA", "--dataset", "iris"], r"is a refnn weights file .*model.load_weights"),
    (["MODEL", "--dataset", "wine"], r"does not fit the model: it takes inputs of width 4.*x.shape=\(133, 13\)"),
    (["MODEL", "--data", "BADNPZ"], r"`--data` must hold arrays named x and y.*\['a'\]"),
])
def test_usage_errors_exit_2_with_the_reason(tmp_path, capsys, args, message):
    path, data = _saved(tmp_path)
    np.savez(tmp_path / "bad.npz", a=np.zeros(3))
    swap = {"MISSING.keras": str(tmp_path / "missing.keras"), "DATA": str(data), "MODEL": str(path),
            "BADNPZ": str(tmp_path / "bad.npz")}
    assert refnn_compare(["validate", *[swap.get(a, a) for a in args]]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_disagreement_exits_1(tmp_path, monkeypatch, capsys):
    path, data = _saved(tmp_path)
    failing = compare.Validation("users_mlp", "float32")
    row = Row("dense", "kernel", np.ones(2), np.full(2, 2.0), 1.0, 0.5, 1e-10)
    failing.checks.append(("float64", "gradients", Comparison("gradients", "float64", rows=[row])))
    monkeypatch.setattr(compare, "validate", lambda *a, **k: failing)
    assert cli.main([str(path), "--data", str(data), "--out", str(tmp_path / "r")]) == 1
    assert "FAILED" in capsys.readouterr().out


def _full_batch_model(kind):
    """A Keras user's model trained by a plugin: Rprop, or Levenberg–Marquardt (which has trained)."""
    import keras_bridge  # noqa: F401  (registers the plugins)
    from keras_bridge import plugins

    layers_ = [keras.Input((4,)), keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(3)]
    if kind == "lm":
        model = plugins.LevenbergMarquardtModel(layers_, mu=0.1, name="users_lm")
        model.compile(loss="mse")
        x, y = _iris()
        model.fit(x, y, epochs=2, batch_size=len(x), verbose=0)
        return model
    model = keras.Sequential(layers_, name="users_rprop")
    model.compile("rprop", "mse")
    return model


@pytest.mark.parametrize("kind", ["rprop", "lm"])
def test_full_batch_models_validate_with_every_row_and_say_they_compare_a_port(tmp_path, capsys, kind):
    """The default batch is every row for a full-batch method (Keras's 32 would be refused), and
    the training checks are labelled as refnn against its own Keras port."""
    model = _full_batch_model(kind)
    path, data = _saved(tmp_path, model)
    out = tmp_path / "report"
    assert cli.main([str(path), "--data", str(data), "--out", str(out), "--steps", "2", "--epochs", "2"]) == 0, \
        capsys.readouterr()
    summary = json.loads((out / "report.json").read_text())
    kinds = {check["what"]: check["kind"] for check in summary["checks"]}
    assert kinds["forward (float32)"] == "keras" and kinds["fit (float32)"] == "port"
    assert "keras_bridge.plugins" in summary["meta"]["optimizer"]
    if kind == "lm":
        assert "state (2 steps taken) was not used" in (out / "report.md").read_text()
