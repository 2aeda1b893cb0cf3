"""The Keras model API on refnn, NumPy only: ``model(x)``, ``predict``, the batch methods and
``evaluate``'s return forms, ``metrics_names``, the weight lists, ``layer.kernel``/``bias``,
``layer.get_weights``/``set_weights`` and ``get_layer``."""

from __future__ import annotations

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(9, 3))
Y = np.eye(2)[RNG.integers(0, 2, size=9)]


def _model(metrics=(), dropout: float = 0.0):
    stack = [layers.Dense(4, "relu", name="hidden"), layers.Dropout(dropout), layers.Dense(2, "softmax")]
    model = refnn.Sequential(stack, input_dim=3, seed=3)
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy", list(metrics))
    return model


def test_call_is_predict_and_training_true_turns_dropout_on():
    model = _model(dropout=0.5)
    assert np.array_equal(model(X), model.predict(X))
    assert np.array_equal(model.predict(X, batch_size=2), model.predict(X))
    assert np.array_equal(model.predict_on_batch(X), model.predict(X))
    assert not np.array_equal(model(X, training=True), model(X))


def test_evaluate_return_forms():
    plain, scored = _model(), _model(["accuracy"])
    assert isinstance(plain.evaluate(X, Y, verbose=0), float)
    loss, accuracy = scored.evaluate(X, Y, verbose=0)
    as_dict = scored.evaluate(X, Y, verbose=0, return_dict=True)
    assert as_dict == {"loss": loss, "accuracy": accuracy}
    assert scored.metrics_names == ["loss", "accuracy"]
    assert scored.test_on_batch(X, Y) == pytest.approx([loss, accuracy], rel=1e-14)
    assert scored.test_on_batch(X, Y, return_dict=True)["loss"] == pytest.approx(loss, rel=1e-14)


def test_evaluate_and_predict_verbose(capsys):
    model = _model(["accuracy"])
    model.evaluate(X, Y, batch_size=4)  # "auto" = 1: one line, as Keras's bar ends
    assert capsys.readouterr().out.startswith("3/3 - loss: ")
    model.predict(X)  # "auto": silent
    assert capsys.readouterr().out == ""
    model.predict(X, batch_size=4, verbose=2)
    assert capsys.readouterr().out == "3/3\n"
    with pytest.raises(ValueError, match="`verbose` must be 'auto', 0, 1 or 2. Received: verbose=3"):
        model.evaluate(X, Y, verbose=3)
    with pytest.raises(ValueError, match="`steps` is not supported"):
        model.predict(X, steps=2)


def test_train_on_batch_reports_the_loss_before_the_step_and_resets_metrics():
    model, twin = _model(["accuracy"]), _model(["accuracy"])
    before = model.evaluate(X, Y, verbose=0, batch_size=9)
    assert model.train_on_batch(X, Y) == pytest.approx(before, rel=1e-14)
    history = twin.fit(X, Y, batch_size=9, epochs=1, shuffle=False, verbose=0).history
    assert model.get_weights()[0].tolist() == twin.get_weights()[0].tolist()
    assert history["loss"][0] == pytest.approx(before[0], rel=1e-14)
    expected = model.evaluate(X[:3], Y[:3], verbose=0, return_dict=True)
    assert model.train_on_batch(X[:3], Y[:3], return_dict=True) == pytest.approx(expected, rel=1e-14)  # this batch


def test_layer_kernel_and_bias_are_live():
    model = _model()
    hidden = model.get_layer("hidden")
    assert hidden.kernel is hidden.params["kernel"] and hidden.bias.shape == (4,)
    hidden.kernel[...] = 0.0
    hidden.bias[...] = 0.0
    assert np.all(model.weights[0] == 0.0)
    out = model.predict(X)
    assert np.allclose(out, out[0])  # zero hidden layer: every row gives the same output
    unbuilt = layers.Dense(2)
    with pytest.raises(ValueError, match="is not built yet"):
        unbuilt.kernel


def test_layer_get_and_set_weights():
    layer = _model().get_layer(index=0)
    copies = layer.get_weights()
    copies[0][...] = 7.0
    assert not np.any(layer.kernel == 7.0)
    layer.set_weights(copies)
    assert np.all(layer.kernel == 7.0) and layer.weights[0] is layer.kernel
    with pytest.raises(ValueError, match=r"`weights` must hold 2 arrays \(hidden/kernel, hidden/bias\) for layer "
                                         r"'hidden'. Received: 1 arrays"):
        layer.set_weights(copies[:1])
    with pytest.raises(ValueError, match=r"Shape mismatch for 'hidden/kernel': layer 'hidden' has \(3, 4\). "
                                         r"Received: weights\['hidden/kernel'\].shape=\(4, 3\)"):
        layer.set_weights([np.zeros((4, 3)), copies[1]])
    assert np.all(layer.kernel == 7.0)  # nothing changed on a mismatch
    assert _model().get_layer(index=1).get_weights() == []  # Dropout: no weights


def test_layer_set_weights_writes_into_the_models_views_even_after_a_replaced_array():
    model = _model()
    layer = model.get_layer(index=0)
    layer.params["kernel"] = np.ones((3, 4))  # replaced by assignment: no longer the model's view
    new = [np.full((3, 4), 2.0), np.full(4, 3.0)]
    layer.set_weights(new)
    for a, b in zip(model.get_weights()[:2], new):
        np.testing.assert_array_equal(a, b)
    assert np.shares_memory(layer.kernel, model.params["hidden/kernel"])


def test_model_weight_lists_and_get_layer():
    model = _model()
    assert [w.shape for w in model.weights] == [(3, 4), (4,), (4, 2), (2,)]
    assert all(a is b for a, b in zip(model.trainable_weights, model.weights))
    assert model.non_trainable_weights == []
    assert model.get_layer(index=2) is model.layers[2]
    with pytest.raises(ValueError, match=r"No such layer: nope. Existing layers are: \['hidden', 'dropout_0'"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="Was asked to retrieve layer at index 5 but model only has 3 layers."):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer("hidden", 0)
    with pytest.raises(ValueError, match="Provide either a layer name or layer index"):
        model.get_layer()


def test_evaluate_prints_a_metric_with_several_values(capsys):
    """``Precision(thresholds=[0.3, 0.5])`` logs one value per threshold; evaluate's printed line
    (``verbose="auto"`` is 1) formats it instead of failing on ``{array:.4f}``."""
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((12, 3)), (rng.random(12) > 0.5).astype(float)
    model = refnn.Sequential([refnn.Input((3,)), refnn.layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy", metrics=[refnn.metrics.Precision(thresholds=[0.3, 0.5])])
    loss, precision = model.evaluate(x, y)
    assert precision.shape == (2,) and "precision: [" in capsys.readouterr().out
