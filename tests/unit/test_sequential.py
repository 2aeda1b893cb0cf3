"""Sequential: whole-model gradients by finite differences, fit semantics, weights, bad input."""

import copy
import warnings

import numpy as np
import pytest

import refnn
from refnn import callbacks, layers, losses, optimizers
from refnn.utils.gradcheck import check_model_gradients
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL

HIDDEN = ["linear", "relu", "sigmoid", "tanh", "softmax"]
# (output activation, loss, target kind)
HEADS = [
    ("linear", "mse", "real"),
    ("tanh", "mse", "real"),
    ("linear", "sse", "real"),
    ("linear", "mae", "real"),
    ("sigmoid", "binary_crossentropy", "binary"),  # fused: from the logits
    ("softmax", "categorical_crossentropy", "onehot"),  # fused
    ("softmax", "sparse_categorical_crossentropy", "sparse"),  # fused
    ("linear", losses.CategoricalCrossentropy(from_logits=True), "onehot"),
    ("linear", losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1), "binary"),
    ("sigmoid", "categorical_crossentropy", "onehot"),  # probability path (not fused), renormalised
]


def _targets(kind, rng, n, k):
    if kind == "real":
        return rng.standard_normal((n, k))
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(float)
    labels = rng.integers(0, k, n)
    return labels if kind == "sparse" else np.eye(k)[labels]


def _mlp(hidden, out_act, seed=0, input_dim=3, k=3, dtype="float64"):
    return refnn.Sequential(
        [layers.Dense(4, activation=hidden, bias_initializer="random_normal"),
         layers.Dense(k, activation=out_act, bias_initializer="random_normal")],
        input_dim=input_dim, seed=seed, dtype=dtype,
    )


@pytest.mark.parametrize("hidden", HIDDEN)
@pytest.mark.parametrize("head", HEADS, ids=lambda h: f"{h[0]}-{getattr(h[1], 'name', h[1])}")
@pytest.mark.parametrize("n", [1, 7])
def test_model_gradients_match_finite_differences(hidden, head, n, rng):
    out_act, loss, kind = head
    model = _mlp(hidden, out_act)
    model.compile(optimizers.SGD(0.1), loss)
    x = rng.standard_normal((n, 3))
    if hidden == "relu":
        x = x + 0.05  # stay off the kink
    errors = check_model_gradients(model, x, _targets(kind, rng, n, 3))
    assert max(errors.values()) <= FINITE_DIFFERENCE_RTOL, errors


def test_activation_layer_output_is_fused_too(rng):
    model = refnn.Sequential([layers.Dense(3), layers.Activation("softmax")], input_dim=2, seed=1)
    model.compile("sgd", "categorical_crossentropy")
    assert model.fuses_loss_with_output
    x, y = rng.standard_normal((5, 2)), np.eye(3)[rng.integers(0, 3, 5)]
    assert max(check_model_gradients(model, x, y).values()) <= FINITE_DIFFERENCE_RTOL


def test_fused_loss_uses_the_logits_like_keras():
    # Keras: output logits [30, 0, −30], target class 2 → evaluate reports 60, not −log(1e-7).
    model = refnn.Sequential([layers.Dense(3, activation="softmax")], input_dim=1, seed=0)
    model.set_weights([np.array([[30.0, 0.0, -30.0]]), np.zeros(3)])
    model.compile("sgd", "categorical_crossentropy")
    result = model.evaluate(np.ones((1, 1)), np.array([[0, 0, 1.0]]), return_dict=True, verbose=0)
    assert result["loss"] == pytest.approx(60.0, rel=1e-14)
    probs = model.predict(np.ones((1, 1)))
    assert losses.CategoricalCrossentropy()([[0, 0, 1.0]], probs) == pytest.approx(-np.log(1e-7))
    # ∂E/∂Z = (softmax(Z) − Y)/N: no saturation
    model.loss_and_gradients(np.ones((1, 1)), np.array([[0, 0, 1.0]]))
    np.testing.assert_allclose(model.layers[0].grads["bias"], probs[0] - [0, 0, 1], rtol=1e-14)


def test_same_seed_same_weights_and_runs(rng):
    x, y = rng.standard_normal((40, 3)), np.eye(3)[rng.integers(0, 3, 40)]
    runs = []
    for _ in range(2):
        model = refnn.Sequential([layers.Dense(5, activation="relu"), layers.Dropout(0.3),
                                  layers.Dense(3, activation="softmax")], input_dim=3, seed=7)
        model.compile(optimizers.SGD(0.1), "categorical_crossentropy")
        w0 = model.get_weights()
        runs.append((w0, model.fit(x, y, epochs=3, batch_size=8, verbose=0).history["loss"], model.get_weights()))
    for a, b in zip(runs[0][0] + runs[0][2], runs[1][0] + runs[1][2]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = _mlp("relu", "softmax", seed=8)
    assert not np.array_equal(other.get_weights()[0], _mlp("relu", "softmax", seed=7).get_weights()[0])


def _replay_history_loss(seed, x, y, batch_size, lr):
    """Keras's definition, recomputed by hand: Σ_b n_b L_b / Σ_b n_b, weights before each update."""
    model = _mlp("tanh", "linear", seed=seed, k=2)
    model.compile(optimizers.SGD(lr), "mse")
    total, n = 0.0, 0
    for start in range(0, x.shape[0], batch_size):
        xb, yb = x[start:start + batch_size], y[start:start + batch_size]
        total += len(xb) * model.train_step(xb, yb)
        n += len(xb)
    return total / n, model.get_weights()


@pytest.mark.parametrize("batch_size", [1, 4, 7, 10, 64])
def test_history_loss_is_the_size_weighted_mean_of_batch_losses(batch_size, rng):
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = _mlp("tanh", "linear", seed=3, k=2)
    model.compile(optimizers.SGD(0.05), "mse")
    history = model.fit(x, y, epochs=1, batch_size=batch_size, shuffle=False, verbose=0)
    expected, weights = _replay_history_loss(3, x, y, batch_size, 0.05)
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-15)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_full_batch_is_one_gradient_step_per_epoch(rng):
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = _mlp("tanh", "linear", seed=3, k=2)
    model.compile(optimizers.SGD(0.05), "mse")
    loss, grads = model.loss_and_gradients(x, y)
    expected = {k: v - 0.05 * grads[k] for k, v in model.params.items()}
    history = model.fit(x, y, epochs=1, batch_size=1000, verbose=0)
    assert history.history["loss"] == [pytest.approx(loss, rel=1e-15)]
    for k, v in model.params.items():
        np.testing.assert_allclose(v, expected[k], rtol=1e-15)
    assert model.optimizer.iterations == 1


def test_train_step_reports_the_loss_before_the_update(rng):
    x, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    model = _mlp("sigmoid", "linear", k=2)
    model.compile(optimizers.SGD(0.5), "mse")
    before = model.evaluate(x, y, return_dict=True, verbose=0)["loss"]
    assert model.train_step(x, y) == pytest.approx(before, rel=1e-15)
    assert model.evaluate(x, y, return_dict=True, verbose=0)["loss"] < before


def test_sgd_learns_digits_like_data(rng):
    x = rng.standard_normal((200, 4))
    labels = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1).astype(int)
    model = refnn.Sequential([layers.Dense(16, activation="tanh"), layers.Dense(3, activation="softmax")],
                             input_dim=4, seed=0)
    model.compile(optimizers.SGD(0.2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, labels, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert model.evaluate(x, labels, return_dict=True, verbose=0)["accuracy"] > 0.9


def test_float32_model_computes_in_float32(rng):
    model = _mlp("relu", "softmax", dtype="float32")
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    x, y = rng.standard_normal((8, 3)), np.eye(3)[rng.integers(0, 3, 8)]
    _, grads = model.loss_and_gradients(x, y)
    assert all(g.dtype == np.float32 for g in grads.values())
    model.fit(x, y, epochs=2, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.predict(x).dtype == np.float32


def test_weights_roundtrip_and_mismatch_leaves_model_unchanged(rng):
    model = _mlp("relu", "softmax")
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 3), (3,)]
    new = [rng.standard_normal(w.shape) for w in weights]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    bad = [w.copy() for w in new]
    bad[2] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"Shape mismatch for 'dense_1/kernel': the model has \(4, 3\). "
                                         r"Received: .*\(3, 4\)"):
        model.set_weights(bad)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"must hold 4 arrays .* Received: 3 arrays"):
        model.set_weights(new[:3])


def test_grads_are_keyed_by_layer_path(rng):
    model = _mlp("relu", "linear")
    model.compile("sgd", "mse")
    _, grads = model.loss_and_gradients(rng.standard_normal((2, 3)), rng.standard_normal((2, 3)))
    assert list(grads) == ["dense_0/kernel", "dense_0/bias", "dense_1/kernel", "dense_1/bias"]
    assert set(model.input_gradients) == {"dense_0", "dense_1"}


def test_summary_and_repr():
    model = _mlp("relu", "softmax")
    lines = []
    text = model.summary(print_fn=lines.append)
    assert "dense_0 (Dense)" in text and "(None, 3)" in text and "Total params: 31" in text
    assert lines == [text]
    assert repr(model) == ("Sequential([Dense(4, activation='relu'), Dense(3, activation='softmax')], input_dim=3, "
                           "dtype='float64')")


def test_build_on_first_fit(rng):
    model = refnn.Sequential([layers.Dense(2)], seed=0)
    model.compile("sgd", "mse")
    model.fit(rng.standard_normal((4, 5)), rng.standard_normal((4, 2)), verbose=0)
    assert model.input_dim == 5 and model.get_weights()[0].shape == (5, 2)


class TestBadInput:
    @pytest.fixture
    def model(self):
        model = _mlp("relu", "softmax")
        model.compile("sgd", "categorical_crossentropy")
        return model

    @pytest.fixture
    def data(self, rng):
        return rng.standard_normal((6, 3)), np.eye(3)[rng.integers(0, 3, 6)]

    def test_x_width(self, model, data):
        with pytest.raises(ValueError, match=r"`x` must have shape \(N, 3\) .* Received: x.shape=\(6, 4\)"):
            model.fit(np.zeros((6, 4)), data[1], verbose=0)

    def test_y_rows(self, model, data):
        with pytest.raises(ValueError, match=r"`y` must have one row per row of x \(6\). Received: y.shape=\(5, 3\)"):
            model.fit(data[0], data[1][:5], verbose=0)

    def test_y_width(self, model, data):
        with pytest.raises(ValueError, match=r"`y` must have shape \(N, 3\) .*units=3. Received: y.shape=\(6, 2\)"):
            model.fit(data[0], data[1][:, :2], verbose=0)

    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite_x(self, model, data, bad):
        x = data[0].copy()
        x[2, 1] = bad
        with pytest.raises(ValueError, match=rf"`x` must contain only finite values. Received: x\[2, 1\]={bad!r}"):
            model.fit(x, data[1], verbose=0)

    def test_non_finite_y(self, model, data):
        y = data[1].copy()
        y[0, 0] = np.nan
        with pytest.raises(ValueError, match=r"`y` must contain only finite values. Received: y\[0, 0\]=nan"):
            model.evaluate(data[0], y, verbose=0)

    @pytest.mark.parametrize("batch_size", [0, -1, 2.5])
    def test_batch_size(self, model, data, batch_size):
        with pytest.raises(ValueError,
                           match=rf"`batch_size` must be a positive integer. Received: batch_size={batch_size!r}"):
            model.fit(*data, batch_size=batch_size, verbose=0)

    def test_epochs(self, model, data):
        with pytest.raises(ValueError, match=r"`epochs` must be a non-negative integer. Received: epochs=-1"):
            model.fit(*data, epochs=-1, verbose=0)

    def test_zero_epochs_trains_nothing(self, model, data):
        before = model.get_weights()
        assert model.fit(*data, epochs=0, verbose=0).history == {}
        for a, b in zip(before, model.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_predict_unbuilt(self):
        with pytest.raises(ValueError, match=r"has not been built yet, so `predict` cannot run"):
            refnn.Sequential([layers.Dense(2)]).predict(np.zeros((1, 2)))

    def test_unknown_loss(self, model):
        with pytest.raises(ValueError, match=r"Received: loss='crossentropy'"):
            model.compile("sgd", "crossentropy")

    def test_unknown_optimizer(self, model):
        with pytest.raises(ValueError, match=r"Received: optimizer='sgdd'"):
            model.compile("sgdd", "mse")

    def test_fit_before_compile(self, data):
        with pytest.raises(ValueError, match=r"must call `compile\(optimizer, loss\)` before `fit`"):
            _mlp("relu", "softmax").fit(*data, verbose=0)

    def test_sparse_labels_out_of_range(self, data):
        model = _mlp("relu", "softmax")
        model.compile("sgd", "sparse_categorical_crossentropy")
        with pytest.raises(ValueError, match=r"`y` must hold integer class ids in \[0, 3\). Received: y value 3"):
            model.fit(data[0], np.array([0, 1, 2, 3, 0, 1]), verbose=0)

    def test_bad_dtype_and_seed(self):
        with pytest.raises(ValueError, match=r'`dtype` must be "float32" or "float64". Received: dtype=\'float16\''):
            refnn.Sequential([layers.Dense(1)], dtype="float16")
        with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer or None. Received: seed=-2"):
            refnn.Sequential([layers.Dense(1)], seed=-2)

    def test_non_layer(self):
        with pytest.raises(TypeError, match=r"Each layer must be a refnn.layers.Layer. Received: 'dense'"):
            refnn.Sequential(["dense"])

    def test_duplicate_names(self):
        with pytest.raises(ValueError, match=r"second layer named 'a'"):
            refnn.Sequential([layers.Dense(1, name="a"), layers.Dense(1, name="a")])


def test_next_shuffle_orders_previews_fit_without_consuming(rng):
    x, y = rng.standard_normal((10, 3)), rng.standard_normal((10, 2))
    model = _mlp("tanh", "linear", seed=4, k=2)
    model.compile(optimizers.SGD(0.05), "mse")
    orders = model.next_shuffle_orders(10, 2)
    assert orders.shape == (2, 10) and np.array_equal(orders, model.next_shuffle_orders(10, 2))
    # replaying the orders with shuffle=False reproduces the shuffled fit exactly
    twin = _mlp("tanh", "linear", seed=4, k=2)
    twin.compile(optimizers.SGD(0.05), "mse")
    shuffled = model.fit(x, y, epochs=2, batch_size=4, verbose=0).history["loss"]
    replayed = [twin.fit(x[o], y[o], epochs=1, batch_size=4, shuffle=False, verbose=0).history["loss"][0]
                for o in orders]
    assert shuffled == replayed


def test_parameters_and_gradients_are_packed_views(rng):
    model = _mlp("relu", "softmax")
    flat = model.params.flat
    assert all(np.shares_memory(v, flat) for v in model.params.values())
    assert all(np.shares_memory(model.params[f"{layer.name}/{k}"], layer.params[k])
               for layer in model.layers for k in layer.params)
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
    x, y = rng.standard_normal((8, 3)), np.eye(3)[rng.integers(0, 3, 8)]
    _, g1 = model.loss_and_gradients(x[:4], y[:4])
    _, g2 = model.loss_and_gradients(x[4:], y[4:])
    assert not np.array_equal(g1["dense_0/kernel"], g2["dense_0/kernel"])  # public grads are copies


def test_deepcopy_keeps_the_packing_and_trains_independently(rng):
    import copy

    x, y = rng.standard_normal((12, 3)), np.eye(3)[rng.integers(0, 3, 12)]
    model = _mlp("tanh", "softmax")
    model.compile(optimizers.Adam(0.05), "categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    clone = copy.deepcopy(model)
    assert all(np.shares_memory(v, clone.params.flat) for v in clone.params.values())
    assert not np.shares_memory(clone.params.flat, model.params.flat)
    a = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    b = clone.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0).history["loss"]
    assert a == b and a[-1] < a[0]
    for u, v in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("name", ["sgd", "momentum", "rmsprop", "adam", "adagrad", "nadam", "adamax", "adadelta"])
def test_packed_update_equals_the_per_tensor_update(name, rng):
    """The packed fast path runs the same arithmetic: bit-identical to one call per tensor."""
    x, y = rng.standard_normal((10, 3)), np.eye(3)[rng.integers(0, 3, 10)]
    model = _mlp("relu", "softmax")
    model.compile(optimizers.get(name), "categorical_crossentropy")
    per_tensor = optimizers.get(name)
    params = {k: v.copy() for k, v in model.params.items()}
    for _ in range(5):
        loss, grads = model.loss_and_gradients(x, y)  # a plain dict at the current weights: per tensor
        model.train_step(x, y)  # the same gradients, packed
        per_tensor.apply(params, grads, loss=loss)
    assert "<packed>" in model.optimizer.state  # the fast path ran
    for k in params:
        np.testing.assert_array_equal(model.params[k], params[k])


# ---- a model and data shared by the tests below ---------------------------------------------
def _two_layer(hidden=5, seed=0):
    return refnn.Sequential([layers.Dense(hidden, activation="tanh"), layers.Dense(3, activation="softmax")],
                            input_dim=4, seed=seed)


@pytest.fixture
def review_data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((12, 4)), np.eye(3)[rng.integers(0, 3, 12)]


def test_one_optimizer_cannot_train_two_models(review_data):
    opt = optimizers.Adam(0.01)
    first = _two_layer()
    first.compile(opt, "categorical_crossentropy")
    first.fit(*review_data, epochs=1, verbose=0)
    with pytest.raises(ValueError,
                       match=r"This optimizer has already trained the model 'sequential'.*Received: optimizer=Adam"):
        _two_layer(seed=1).compile(opt, "categorical_crossentropy")
    first.compile(opt, "categorical_crossentropy")  # its own model may compile it again


def test_empty_input(review_data):
    model = _two_layer()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"`x` must have at least one row. Received: x.shape=\(0, 4\)"):
        model.fit(review_data[0][:0], review_data[1][:0], verbose=0)
    with pytest.raises(ValueError, match=r"`x` must have at least one row"):
        model.evaluate(review_data[0][:0], review_data[1][:0], verbose=0)


def test_a_lone_callback_is_a_clear_error(review_data):
    model = _two_layer()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(TypeError, match=r"`callbacks` must be a list of Callback instances. Received: "
                                        r"callbacks=EarlyStopping\(.*wrap a single callback in a list"):
        model.fit(*review_data, callbacks=callbacks.EarlyStopping(), verbose=0)


def test_fit_warns_when_training_diverges():
    x = np.random.default_rng(0).standard_normal((8, 4)) * 1e3
    model = refnn.Sequential([layers.Dense(1)], input_dim=4, seed=0)
    model.compile(optimizers.SGD(10.0), "mse")
    with pytest.warns(RuntimeWarning, match=r"Training ended with non-finite weights"):
        with np.errstate(all="ignore"):
            model.fit(x, x.sum(1) * 1e3, epochs=100, verbose=0)
    model.set_weights(model.get_weights())  # what diverged can still be set (and saved) as is


def test_well_behaved_fit_does_not_warn(review_data):
    model = _two_layer()
    model.compile("sgd", "categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(*review_data, epochs=2, verbose=0)


def test_complex_and_string_inputs_are_refused(review_data):
    model = _two_layer()
    model.compile("sgd", "categorical_crossentropy")
    with pytest.raises(TypeError, match=r"`x` must be a real array. Received: x with dtype=complex128"):
        model.predict(review_data[0] + 1j)
    with pytest.raises(TypeError, match=r"`y_true` must be a numeric array"):
        losses.MeanSquaredError()(np.array(["a"]), np.zeros((1, 1)))


def test_replacing_a_state_array_after_packing_takes_effect(review_data):
    """Per-path state is public: assigning a new array must count like writing into it."""
    runs = []
    for replace in (True, False):
        model = _two_layer()
        model.compile(optimizers.SGD(0.1, momentum=0.9), "categorical_crossentropy")
        model.train_step(*review_data)
        state = model.optimizer.state["dense_0/kernel"]
        if replace:
            state["momentum"] = np.zeros((4, 5))
        else:
            state["momentum"][...] = 0.0
        model.train_step(*review_data)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


# ---- a model owns its layers and its optimizer -----------------------------------------------------
def test_a_layer_of_another_model_is_refused_deterministically(review_data):
    """Building a second model from the same layer objects used to re-initialise them and point them
    at the second model's storage: the first one then trained as a no-op (loss constant)."""
    shared = [layers.Dense(6, activation="tanh"), layers.Dense(3, activation="softmax")]
    first = refnn.Sequential(shared, input_dim=4, seed=0)
    with pytest.raises(ValueError, match=r"Layer 'dense_0' \(Dense\) already belongs to the model 'sequential'.*"
                                         r"Create new layers for this model, or copy the whole model"):
        refnn.Sequential(shared, input_dim=4, seed=1)
    first.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    losses_seen = first.fit(*review_data, epochs=5, batch_size=12, verbose=0).history["loss"]
    assert losses_seen[-1] < losses_seen[0]  # the first model still trains
    del first  # the refusal does not depend on whether the collector has run
    with pytest.raises(ValueError, match=r"already belongs to the model 'sequential'"):
        refnn.Sequential(shared)
    with pytest.raises(ValueError, match=r"Layer 'dense_0' is already in this model"):
        model = refnn.Sequential([layers.Dense(2)])
        model.add(model.layers[0])


def test_a_model_that_fails_to_build_leaves_its_layers_free():
    """A typo in the constructor used to leave the layers owned by a model nobody can reach."""
    dense = layers.Dense(2)
    with pytest.raises(ValueError, match=r"input_dim=0"):
        refnn.Sequential([dense], input_dim=0)
    with pytest.raises(TypeError, match=r"Received: 3 of type int"):
        refnn.Sequential([dense, 3])
    assert refnn.Sequential([dense], input_dim=3).layers == [dense]


def test_a_copied_or_pickled_layer_belongs_to_no_model():
    """Copying one layer of a built model used to copy the model with it and crash; the copy is a
    standalone layer computing what the original computes, and a copied model owns its copies."""
    import pickle

    model = _two_layer()
    x = np.ones((2, 4))
    for clone in (copy.deepcopy(model.layers[0]), pickle.loads(pickle.dumps(model.layers[0]))):
        assert clone._model is None
        np.testing.assert_array_equal(clone.forward(x), model.layers[0].forward(x))
        assert refnn.Sequential([clone], input_dim=4).layers[0] is clone
    for twin in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert all(layer._model is twin for layer in twin.layers)


def test_a_copy_of_a_trained_optimizer_is_refused_too(review_data):
    """A deep copy or a pickle of an optimizer that took steps carries its moments and step count;
    compiling it into a fresh model used to inherit them silently."""
    import pickle

    model = _two_layer()
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
    model.fit(*review_data, epochs=1, verbose=0)
    for clone in (copy.deepcopy(model.optimizer), pickle.loads(pickle.dumps(model.optimizer))):
        with pytest.raises(ValueError, match=r"already trained a model \(\d+ steps; a copy or a pickle"):
            _two_layer(seed=1).compile(clone, "categorical_crossentropy")
    model.compile(model.optimizer, "categorical_crossentropy")  # its own model may compile it again


def test_an_optimizer_that_trained_another_model_is_refused_deterministically(review_data):
    import gc

    opt = optimizers.Adam(0.01)
    first = _two_layer()
    first.compile(opt, "categorical_crossentropy")
    first.fit(*review_data, epochs=1, verbose=0)
    gc.disable()  # the dead first model sits in a reference cycle: the refusal must not wait for gc
    try:
        del first
        with pytest.raises(ValueError, match=r"This optimizer has already trained the model 'sequential'"):
            _two_layer(seed=1).compile(opt, "categorical_crossentropy")
    finally:
        gc.enable()
    fresh = optimizers.Adam(0.01)  # never used: it may move to another model, and the first one says so
    a, b = _two_layer(), _two_layer(seed=1)
    a.compile(fresh, "categorical_crossentropy")
    b.compile(fresh, "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"This model's optimizer was compiled into the model 'sequential' since"):
        a.fit(*review_data, epochs=1, verbose=0)
    a.evaluate(*review_data, verbose=0)  # evaluating takes no optimizer step: allowed
    a.loss_and_gradients(*review_data)


def test_a_replaced_parameter_array_is_linked_again(review_data):
    """``layer.params["kernel"] = W`` used to freeze that kernel: training updated the packed copy,
    the layer kept computing with W."""
    model = _two_layer()
    model.compile(optimizers.SGD(0.5), "categorical_crossentropy")
    new_kernel = np.full((4, 5), 0.1)
    model.layers[0].params["kernel"] = new_kernel
    np.testing.assert_array_equal(model.get_weights()[0], new_kernel)  # the model sees the new values
    model.fit(*review_data, epochs=2, verbose=0)
    kernel = model.layers[0].params["kernel"]
    assert kernel is model.params["dense_0/kernel"] and not np.allclose(kernel, 0.1)  # and trains them
    model.layers[0].params["kernel"] = np.zeros((3, 5))
    with pytest.raises(ValueError, match=r"Shape mismatch for dense_0/kernel: the model has \(4, 5\). "
                                         r"Received: dense_0.params\['kernel'\].shape=\(3, 5\)"):
        model.fit(*review_data, epochs=1, verbose=0)


def test_building_a_built_model_keeps_its_weights(review_data):
    model = _two_layer()
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
    model.fit(*review_data, epochs=2, verbose=0)
    trained = model.get_weights()
    model.build(4)  # as in Keras: a no-op
    for a, b in zip(model.get_weights(), trained):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"already built for input_dim=4.*Received: input_dim=5"):
        model.build(5)


def test_compile_refuses_an_unreduced_loss():
    with pytest.raises(ValueError, match=r"`compile` needs a loss reduced to a scalar .*reduction='none' gives one "
                                         r"value per sample"):
        _two_layer().compile("sgd", losses.CategoricalCrossentropy(reduction="none"))
