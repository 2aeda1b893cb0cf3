"""``keras_bridge.compare``: live comparisons return plain results that print as tables, pass within
the tolerance contract, and fail by naming the first layer and quantity with both values.
Also: the batch-order replay reproduces Keras's own ``fit`` semantics bit for bit."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
import keras_bridge  # noqa: E402
from keras_bridge import compare, floatx, to_keras  # noqa: E402
from keras_bridge.compare import Comparison, Row  # noqa: E402
from keras_bridge.compare.results import VALUES_SHOWN_UP_TO, format_values  # noqa: E402
from refnn import layers, optimizers, regularizers  # noqa: E402
from refnn.utils.data import one_hot  # noqa: E402
from refnn.utils.tolerance import TOLERANCES  # noqa: E402

DTYPES = ["float64", "float32"]


def _data(n=30, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    labels = rng.integers(0, k, n)
    return x, labels


# (hidden activation, output activation, loss, target kind, regularizer, extra layer)
GRADIENT_CASES = {
    "relu-softmax-cce-l2": ("relu", "softmax", "categorical_crossentropy", "onehot", regularizers.L2(0.01), None),
    "tanh-softmax-scce-l1": ("tanh", "softmax", "sparse_categorical_crossentropy", "ids", regularizers.L1(0.01), None),
    "sigmoid-sigmoid-bce-l1l2": ("sigmoid", "sigmoid", "binary_crossentropy", "binary",
                                 regularizers.L1L2(0.003, 0.02), None),
    "tanh-linear-mse": ("tanh", None, "mse", "real", None, None),
    "relu-activation_softmax-cce": ("relu", None, "categorical_crossentropy", "onehot", None, "softmax"),
    "linear-tanh-mae-dropout": ("linear", "tanh", "mae", "real", None, "dropout"),
}


def _gradient_case(name, dtype):
    hidden, out_act, loss, target, reg, extra = GRADIENT_CASES[name]
    x, labels = _data()
    units = 1 if target == "binary" else 3
    stack = [layers.Dense(5, activation=hidden, kernel_regularizer=reg, bias_regularizer=reg),
             layers.Dense(units, activation=out_act, kernel_regularizer=reg)]
    if extra == "softmax":
        stack.append(layers.Activation("softmax"))
    elif extra == "dropout":
        stack.insert(1, layers.Dropout(0.5, seed=1))
    model = refnn.Sequential(stack, input_dim=4, seed=2, dtype=dtype)
    model.compile("sgd", loss)
    y = {"onehot": one_hot(labels, 3), "ids": labels, "binary": (labels % 2).astype(float)[:, None],
         "real": np.sin(x[:, :3])}[target]
    return model, x, y


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", list(GRADIENT_CASES))
def test_forward_and_gradients_through_the_bridge(case, dtype):
    model, x, y = _gradient_case(case, dtype)
    fwd = compare.forward(model, x, y).assert_passed()
    assert [r.name for r in fwd.rows][-1] == "model/loss"
    assert {r.rtol for r in fwd.rows} == {TOLERANCES["forward"][dtype]}
    grads = compare.gradients(model, x, y).assert_passed()
    names = [r.name for r in grads.rows]
    # backpropagation order: the loss, then the output layer's parameters and dE/dX, down to the input
    last, first = model.layers[-1].name, model.layers[0].name
    assert names[0] == "model/loss" and names[-3:] == [f"{first}/kernel", f"{first}/bias", f"{first}/dE/dX"]
    assert names[1].startswith(last)
    assert {r.rtol for r in grads.rows[1:]} == {TOLERANCES["gradients"][dtype]}


def test_results_print_as_tables():
    model, x, y = _gradient_case("relu-softmax-cce-l2", "float64")
    text = str(compare.gradients(model, x, y))
    lines = text.splitlines()
    assert lines[0].startswith("compare.gradients — refnn vs keras, float64: PASSED")
    assert "layer    quantity  shape    max |keras|  max abs diff  max rel diff  tolerance" in text
    assert any(line.startswith("dense_0  dE/dX     (30, 4)") and line.endswith("ok") for line in lines)
    # the values' scale is shown beside the errors: the gradient's largest entry, Keras's side
    result = compare.gradients(model, x, y)
    row = next(r for r in result.rows if r.name == "dense_0/kernel")
    line = next(line for line in lines if line.startswith("dense_0  kernel"))
    assert f"{np.max(np.abs(row.keras)):.3e}" in line


ERRORS_ONLY_COLUMNS = ["layer", "quantity", "shape", "max |keras|", "max abs diff", "max rel diff", "tolerance"]


def _header(text: str) -> list[str]:
    """The column names of a comparison table."""
    return re.split(r" {2,}", next(line for line in text.splitlines() if line.startswith("layer ")))


def _cells(text: str, layer: str, quantity: str) -> list[str]:
    """The cells of the table line of ``layer/quantity`` (columns are two or more spaces apart)."""
    line = next(line for line in text.splitlines() if re.match(rf"{re.escape(layer)} +{re.escape(quantity)}  ", line))
    return re.split(r" {2,}", line)


@pytest.mark.parametrize("dtype", DTYPES)
def test_small_tensors_print_both_sides_numbers_beside_the_errors(dtype):
    """Issue 10: the table shows refnn's and TensorFlow's numbers for small tensors (the loss, the
    biases), exactly: read back, they are the row's own numbers, digit for digit."""
    model, x, y = _gradient_case("relu-softmax-cce-l2", dtype)
    result = compare.gradients(model, x, y)
    text = str(result)
    assert text == result.table(values=None)
    assert _header(text) == ERRORS_ONLY_COLUMNS + ["refnn", "keras"]
    small = [row for row in result.rows if row.refnn.size <= VALUES_SHOWN_UP_TO]
    assert [row.name for row in small] == ["model/loss", "dense_1/bias", "dense_0/bias"]
    for row in small:
        *_, status, mine, theirs = _cells(text, row.layer, row.quantity)
        assert status == "ok"
        assert np.array_equal(np.array(ast.literal_eval(mine), dtype=dtype), row.refnn.astype(dtype))
        assert np.array_equal(np.array(ast.literal_eval(theirs), dtype=dtype), row.keras.astype(dtype))
        assert np.shape(ast.literal_eval(mine)) == row.refnn.shape
    # a large tensor's line ends at its status: no numbers by default
    assert _cells(text, "dense_0", "kernel")[-1] == "ok"


def test_shown_values_reveal_the_digit_where_the_two_sides_part():
    rows = [Row("model", "loss", np.array(0.1 + 0.2), np.array(0.3), 5.6e-17, 1.9e-16, 1e-12),
            Row("dense_0", "bias", np.array([1.0, 2.0000000000000004]), np.array([1.0, 2.0]), 4.4e-16, 2.2e-16, 1e-10),
            Row("history", "epochs run", np.array([3]), np.array([3]), 0.0, 0.0, 0.0)]
    text = Comparison("gradients", "float64", rows).table()
    assert _cells(text, "model", "loss")[-2:] == ["0.30000000000000004", "0.3"]
    assert _cells(text, "dense_0", "bias")[-2:] == ["[1.0, 2.0000000000000004]", "[1.0, 2.0]"]
    assert _cells(text, "history", "epochs run")[-2:] == ["[3]", "[3]"]
    # in a float32 comparison the numbers print in float32: equal float32 numbers print alike
    text32 = Comparison("gradients", "float32", rows).table()
    assert _cells(text32, "model", "loss")[-2:] == ["0.3", "0.3"]
    assert _cells(text32, "dense_0", "bias")[-2:] == ["[1.0, 2.0]", "[1.0, 2.0]"]


def test_values_true_summarises_large_tensors_and_values_false_prints_errors_only():
    grid = np.arange(12.0).reshape(3, 4) / 8
    rows = [Row("dense_0", "kernel", grid, grid + 1e-17, 1e-17, 1e-17, 1e-10),
            Row("dense_0", "bias", np.array([[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]]), np.full((2, 3), np.nan),
                np.nan, np.nan, 1e-10)]
    result = Comparison("gradients", "float64", rows)
    every = result.table(values=True)
    assert _cells(every, "dense_0", "kernel")[-2:] == ["[0.0, 0.125, 0.25, …] min 0.0 max 1.375",
                                                       "[1e-17, 0.125, 0.25, …] min 1e-17 max 1.375"]
    assert _cells(every, "dense_0", "bias")[-3:] == [
        "FAIL", "[[1.5, -2.0, 3.0], [4.0, 5.0, 6.25]]", "[[nan, nan, nan], [nan, nan, nan]]"]
    # by default only the bias (6 entries) shows its numbers
    default = result.table()
    assert _cells(default, "dense_0", "kernel")[-1] == "ok"
    assert _cells(default, "dense_0", "bias")[-1] == "[[nan, nan, nan], [nan, nan, nan]]"
    errors_only = result.table(values=False)
    assert _cells(errors_only, "dense_0", "bias")[-1] == "FAIL" and "max 1.375" not in errors_only
    assert _header(errors_only) == ERRORS_ONLY_COLUMNS
    assert "refnn: [" in errors_only and "keras: [nan" in errors_only  # the failure message still shows both
    assert format_values(np.full(9, np.nan)) == "[nan, nan, nan, …] min nan max nan"
    assert format_values(np.arange(9.0), summarise=False) == "[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]"


def test_a_table_without_small_tensors_is_the_errors_only_table():
    rows = [Row("dense_0", "kernel", np.ones((4, 5)), np.ones((4, 5)), 0.0, 0.0, 1e-10)]
    result = Comparison("forward", "float64", rows)
    assert str(result) == result.table(values=False)
    assert _header(str(result)) == ERRORS_ONLY_COLUMNS


@pytest.mark.parametrize("values", ["yes", 1, 0.0])
def test_table_values_must_be_none_true_or_false(values):
    with pytest.raises(TypeError, match=re.escape(f"values must be None, True or False. Received: values={values!r}")):
        Comparison("forward", "float64").table(values=values)


def test_a_failing_comparison_names_the_first_disagreement_with_both_values():
    """Without the float32 rounding of the L2 factor, float64 Keras and refnn differ by ~1e-9 in
    the loss: a real disagreement beyond the float64 contract, reported at the loss first."""
    model, x, y = _gradient_case("relu-softmax-cce-l2", "float64")
    result = compare.gradients(model, x, y, keras_exact=False)
    assert not result.passed and result.first_failure.name == "model/loss"
    with pytest.raises(AssertionError) as info:
        result.assert_passed()
    message = str(info.value)
    assert "compare.gradients (float64): first disagreement at layer 'model', quantity 'loss'" in message
    assert f"refnn: [{result.first_failure.refnn.item()!r}]" in message.replace("np.float64(", "")
    assert "keras: [" in message and "FAILED" in str(result)


def test_failure_message_names_the_layer_and_the_agreeing_quantity_before_it():
    rows = [Row("dense_1", "kernel", np.ones(3), np.ones(3), 0.0, 0.0, 1e-10),
            Row("dense_1", "dE/dX", np.array([1.0, 2.0]), np.array([1.0, 2.5]), 0.5, 0.2, 1e-10),
            Row("dense_0", "kernel", np.ones(2), np.zeros(2), 1.0, 1.0, 1e-10)]
    result = Comparison("gradients", "float64", rows)
    message = result.failure_message()
    assert "first disagreement at layer 'dense_1', quantity 'dE/dX': max relative error 2.000e-01 > 1e-10" in message
    assert "refnn: [1., 2.]" in message and "keras: [1. , 2.5]" in message
    assert "(previous quantity 'dense_1/kernel' agreed: 0.000e+00)" in message
    assert result.errors == {"dense_1/kernel": 0.0, "dense_1/dE/dX": 0.2, "dense_0/kernel": 1.0}


def test_compare_accepts_a_keras_model():
    x, labels = _data()
    with floatx("float64"):
        km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="tanh"),
                               keras.layers.Dense(3), keras.layers.Softmax()])
        km.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    compare.forward(km, x, labels).assert_passed()
    compare.gradients(km, x, labels).assert_passed()


# ---- training: batch order and fit semantics ------------------------------------------------------
def _fit_model(dtype="float64"):
    model = refnn.Sequential([layers.Dense(6, activation="tanh", kernel_regularizer=regularizers.L2(0.01)),
                              layers.Dense(3, activation="softmax")], input_dim=4, seed=1, dtype=dtype)
    model.compile(optimizers.SGD(0.1, momentum=0.9), "categorical_crossentropy", metrics=["accuracy"])
    return model


def test_replayed_batch_order_reproduces_keras_fit_bit_for_bit():
    """keras_fit_in_order with the identity order = Keras's own fit(shuffle=False,
    validation_split): same size-weighted loss with a partial last batch, same val_loss, same
    weights — so the ordered path is Keras's fit, only fed refnn's batches."""
    x, labels = _data(n=23)
    y = one_hot(labels, 3)
    model = _fit_model()
    plain, ordered = to_keras(model), to_keras(model)
    with floatx("float64"):
        expected = plain.fit(x, y, epochs=4, batch_size=5, shuffle=False, validation_split=0.2, verbose=0).history
    split = int(23 * 0.8)  # 18 rows: batches of 5, 5, 5, 3
    got = compare.keras_fit_in_order(ordered, x[:split], y[:split], np.tile(np.arange(split), (4, 1)), 5,
                                     validation_data=(x[split:], y[split:])).history
    assert got == expected
    for a, b in zip(plain.get_weights(), ordered.get_weights()):
        assert np.array_equal(a, b)
    # and that history is the size-weighted mean (5, 5, 5, 3) — not the plain mean — of the batch losses
    losses = []
    check = to_keras(model)
    with floatx("float64"):
        for rows in (slice(0, 5), slice(5, 10), slice(10, 15), slice(15, 18)):
            losses.append(check.train_on_batch(x[rows], y[rows], return_dict=True)["loss"])
    assert got["loss"][0] == pytest.approx(np.average(losses, weights=[5, 5, 5, 3]), rel=1e-15, abs=0)
    assert abs(np.mean(losses) - got["loss"][0]) > 1e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_training_follows_refnn_shuffle_order_and_leaves_the_model_alone(dtype):
    x, labels = _data(n=27)
    model = _fit_model(dtype)
    before = model.get_weights()
    result = compare.training(model, x, one_hot(labels, 3), epochs=5, batch_size=4, validation_split=0.25)
    result.assert_passed()
    assert result.refnn_epochs == result.keras_epochs == 5
    assert set(result.keras_history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert "refnn's shuffle order" in str(result)
    # the order matters: Keras fed unshuffled batches ends elsewhere
    unshuffled = to_keras(model)
    split = int(27 * 0.75)
    y = one_hot(labels, 3).astype(dtype)
    compare.keras_fit_in_order(unshuffled, x[:split], y[:split], np.tile(np.arange(split), (5, 1)), 4)
    final = {r.name: r.keras for r in result.rows if r.layer != "history"}
    assert not np.allclose(unshuffled.layers[0].kernel.numpy(), final["dense_0/kernel"], rtol=1e-3, atol=0)


def test_training_starts_both_optimizers_fresh():
    """A model whose optimizer already has state (moments, step count) is compared from a fresh
    optimizer of the same configuration on both sides: optimizer state does not cross the bridge."""
    x, labels = _data(n=20)
    y = one_hot(labels, 3)
    model = _fit_model()
    model.compile(optimizers.Adam(0.05), "categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert model.optimizer.iterations == 6
    compare.training(model, x, y, epochs=3, batch_size=8).assert_passed()
    assert model.optimizer.iterations == 6


@pytest.mark.parametrize("dtype", DTYPES)
def test_soft_labels_not_summing_to_one_are_labelled_a_known_difference(dtype):
    """Issue item: CCE on logits with targets whose rows sum to 0.8. The losses agree; the
    gradients differ (refnn: softmax·Σy − y, TensorFlow: softmax − y) and so does training. Each
    differing row is labelled, not a bare FAIL, and the note gives the reason."""
    model, x, y = _gradient_case("relu-softmax-cce-l2", dtype)
    soft = 0.8 * y
    grads = compare.gradients(model, x, soft)
    loss_row, *gradient_rows = grads.rows
    assert loss_row.status == "ok"
    assert all(row.status == "known difference" for row in gradient_rows if not row.passed)
    assert grads.known_differences and grads.first_failure is None and grads.passed
    # the size of the difference is what the two formulas predict: refnn's gradient is
    # TensorFlow's plus softmax·(Σy − 1), i.e. −0.2·softmax per sample before the mean
    assert grads.known_differences[0].max_rel > 1e-2
    text = str(grads)
    assert "known difference" in text and "softmax(z)·Σy − y" in text and "FAIL\n" not in text + "\n"
    assert "worst row sum 0.8" in text

    trained = compare.training(model, x, soft, epochs=2, batch_size=8)
    assert trained.known_differences and trained.passed
    assert all(row.status in ("ok", "known difference") for row in trained.rows)


def test_a_failure_with_targets_summing_to_one_stays_a_failure():
    """The label needs the cause: with one-hot targets a disagreement is reported as FAIL."""
    model, x, y = _gradient_case("relu-softmax-cce-l2", "float64")
    result = compare.gradients(model, x, y, keras_exact=False)
    assert not result.passed and not result.known_differences
    assert any(row.status == "FAIL" for row in result.rows)


@pytest.mark.parametrize("scale", [1.0, 0.999])
def test_a_mismatched_output_and_crossentropy_is_labelled_as_keras_behaviour(scale):
    """A sigmoid output with CCE: Keras computes the softmax crossentropy of the sigmoid's logits,
    refnn the loss asked for. Every row differs, the loss included, each labelled with that reason
    (not the soft-label one, even with targets off 1: the logits path is not refnn's here)."""
    x, labels = _data()
    model = refnn.Sequential([layers.Dense(3, activation="sigmoid")], input_dim=4, seed=2)
    model.compile("sgd", "categorical_crossentropy")
    result = compare.gradients(model, x, scale * one_hot(labels, 3))
    assert result.rows[0].name == "model/loss" and result.rows[0].status == "known difference"
    assert result.passed and len(result.known_differences) == len(result.rows)
    assert "Keras computes this loss from the sigmoid's logits as softmax crossentropy" in str(result)
    assert "row sum" not in str(result)
    forward = compare.forward(model, x, scale * one_hot(labels, 3))
    assert forward.rows[-1].status == "known difference" and forward.passed


def test_soft_labels_summing_to_one_agree_with_keras():
    """Smoothed or mixed labels whose rows sum to 1 take the same gradient on both sides."""
    model, x, y = _gradient_case("relu-softmax-cce-l2", "float64")
    rng = np.random.default_rng(3)
    soft = rng.dirichlet(np.ones(3), size=x.shape[0])
    result = compare.gradients(model, x, soft).assert_passed()
    assert not result.known_differences


def test_compare_takes_keras_models_callbacks_and_metric_objects_as_users_write_them():
    """A Keras user's model: ``keras.Input``, string and object metrics (one, CosineSimilarity, that refnn does
    not compute), Keras callbacks. Gradients and training compare; what refnn cannot run and that
    does not change the numbers is set aside with a note; the user's model is not trained."""
    x, labels = _data(n=40)
    y = one_hot(labels, 3)
    with floatx("float64"):
        kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu"),
                                   keras.layers.Dense(3, activation="softmax")], name="users")
        kmodel.compile(keras.optimizers.Adam(0.01), "categorical_crossentropy",
                       metrics=["accuracy", keras.metrics.CategoricalAccuracy(name="cat_acc"),
                                keras.metrics.CosineSimilarity()])
    before = [w.copy() for w in kmodel.get_weights()]
    grads = compare.gradients(kmodel, x, y).assert_passed()
    assert any("metric 'CosineSimilarity': no refnn counterpart" in note for note in grads.notes)
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=1),
                 keras.callbacks.CSVLogger("/dev/null")]
    result = compare.training(kmodel, x, y, epochs=4, batch_size=16, validation_split=0.25,
                              callbacks=callbacks).assert_passed()
    assert {"history/cat_acc", "history/val_cat_acc", "history/accuracy"} <= {row.name for row in result.rows}
    assert any("callback CSVLogger: not run (it only watches training)" in note for note in result.notes)
    assert all(np.array_equal(a, b) for a, b in zip(before, kmodel.get_weights()))
    # the user's model is never trained: the same call twice gives the same numbers
    steps = [compare.steps(kmodel, x[:16], y[:16], n_steps=3) for _ in range(2)]
    assert steps[0].passed and steps[0].errors == steps[1].errors
    assert kmodel.optimizer.iterations.numpy() == 0
    assert all(np.array_equal(a, b) for a, b in zip(before, kmodel.get_weights()))
    # a Keras EarlyStopping that fires: both sides stop after the same epoch
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=0)
    early = compare.training(kmodel, x, y, epochs=6, batch_size=16, callbacks=[stop]).assert_passed()
    assert early.refnn_epochs == early.keras_epochs == 2
    with pytest.raises(keras_bridge.NotMappableError, match=r"Keras callback SwapEMAWeights changes training"):
        compare.training(kmodel, x, y, epochs=2, callbacks=[keras.callbacks.SwapEMAWeights()])


def test_training_keeps_the_keras_callbacks_that_keras_fit_ran():
    """``TrainingComparison.keras_callbacks``: the Keras callbacks Keras's ``fit`` ran, with their
    state after it. Keras's own EarlyStopping says where Keras stopped and which epoch it kept —
    read from Keras, not recomputed by refnn's rule — and it equals refnn's EarlyStopping run alone."""
    from refnn import callbacks as rcallbacks

    x, labels = _data(n=40)
    y = one_hot(labels, 3)
    assert compare.training(_fit_model(), x, y, epochs=2, batch_size=8).keras_callbacks == []

    def stopper():
        return rcallbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    result = compare.training(_fit_model(), x, y, epochs=30, batch_size=8, validation_split=0.25,
                              callbacks=[stopper()]).assert_passed()
    (theirs,) = result.keras_callbacks
    assert isinstance(theirs, keras.callbacks.EarlyStopping) and theirs.patience == 2
    mine = stopper()
    keras_bridge.keras_exact_copy(_fit_model()).fit(x, y, epochs=30, batch_size=8, validation_split=0.25,
                                                    callbacks=[mine], verbose=0)
    assert 0 < theirs.stopped_epoch == mine.stopped_epoch == result.keras_epochs - 1 < 29
    assert theirs.best_epoch == mine.best_epoch == int(np.argmin(result.keras_history["val_loss"]))
    assert theirs.stopped_epoch == theirs.best_epoch + 2
