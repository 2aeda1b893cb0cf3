"""A training step (``fit``, ``train_on_batch``) computes exactly what ``loss_and_gradients``
computes, while keeping less: Y written over Z for in-place activations, dZ written over the dX
handed down, no softmax output when nobody reads it; and a packed optimizer update run block by
block is bit-identical to one call per tensor."""

import copy

import numpy as np
import pytest

import refnn
from refnn import activations, layers, losses, optimizers
from refnn.utils.packing import BLOCK_BYTES
from tests.unit.test_sequential import _targets

STACKS = {  # hidden activations, output activation, loss, target kind
    "relu-softmax-cce": (["relu", "relu"], "softmax", "categorical_crossentropy", "onehot"),
    "tanh-sigmoid-bce": (["tanh", "linear"], "sigmoid", "binary_crossentropy", "binary"),
    "relu-relu-mse": (["relu", "tanh"], "relu", "mse", "real"),  # in-place output fed the loss's gradient
    "gelu-softmax-scce": (["gelu", "sigmoid"], "softmax", "sparse_categorical_crossentropy", "sparse"),
    "linear-linear-mae": (["linear", "relu"], "linear", "mae", "real"),
}


def _model(hidden, output, extra_layers=False, dtype="float64"):
    stack = [layers.Dense(5, activation=hidden[0], bias_initializer="random_normal")]
    if extra_layers:  # identity layers on the backward path: they hand dX down untouched
        stack += [layers.Dropout(0.0), layers.Activation("linear")]
    stack += [layers.Dense(4, activation=hidden[1], bias_initializer="random_normal"),
              layers.Dense(3, activation=output, bias_initializer="random_normal")]
    if extra_layers:
        stack.append(layers.Activation("linear"))
    return refnn.Sequential(stack, input_dim=6, seed=3, dtype=dtype)


@pytest.mark.parametrize("stack", STACKS, ids=str)
@pytest.mark.parametrize("metrics", [None, ["mae"]], ids=["no-metrics", "metrics"])
@pytest.mark.parametrize("extra_layers", [False, True], ids=["dense-only", "with-identity-layers"])
def test_a_training_step_equals_loss_and_gradients_then_apply(stack, metrics, extra_layers, rng):
    hidden, output, loss, kind = STACKS[stack]
    x, y = rng.standard_normal((9, 6)), _targets(kind, rng, 9, 3)
    model = _model(hidden, output, extra_layers)
    model.compile(optimizers.Adam(0.05), loss, metrics=metrics)
    by_hand, per_tensor = copy.deepcopy(model), optimizers.Adam(0.05)
    params = {path: value.copy() for path, value in by_hand.params.items()}
    for _ in range(4):
        by_hand.set_weights([params[path] for path in by_hand.params])
        loss_value, grads = by_hand.loss_and_gradients(x, y)  # the public path keeps every array
        per_tensor.apply(params, grads, loss=loss_value)
        logs = model.train_on_batch(x, y, return_dict=True)
        assert logs["loss"] == loss_value  # bit-identical, before the update
    for path, value in model.params.items():
        np.testing.assert_array_equal(value, params[path])


def test_fit_keeps_only_what_the_step_needs_and_forward_restores_the_rest(rng):
    x, y = rng.standard_normal((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]
    model = _model(["relu", "sigmoid"], "softmax")
    model.compile("adam", "categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    relu, sigmoid, softmax = model.layers
    assert relu.Z is None and relu.Y is not None  # Y written over Z
    assert sigmoid.Z is not None  # sigmoid's backward reads its own output, but it computes out of place
    assert softmax.Y is None and softmax.Z is not None  # the loss read the logits, no metric the outputs
    assert all(layer.dZ is None for layer in model.layers)
    model.forward(x)
    np.testing.assert_array_equal(relu.Y, np.maximum(relu.Z, 0))
    np.testing.assert_allclose(softmax.Y.sum(axis=1), 1.0, rtol=1e-15)


def test_a_metric_gets_the_outputs_a_fused_output_would_otherwise_skip(rng):
    x, labels = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    model = _model(["relu", "relu"], "softmax")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    twin = copy.deepcopy(model)
    accuracy = model.fit(x, labels, epochs=1, batch_size=8, verbose=0).history["accuracy"][0]
    expected = np.mean(np.argmax(twin.predict(x, verbose=0), axis=1) == labels)
    assert model.layers[-1].Y is not None and accuracy == expected


class _HeldGradientMSE(losses.Loss):
    """A custom loss that hands out an array it keeps."""

    def call(self, y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2, axis=1)

    def call_gradient(self, y_true, y_pred):
        self.held = 2 * (y_pred - y_true) / y_pred.shape[1]
        self.kept = self.held.copy()
        return self.held


def test_a_custom_losss_own_array_is_never_scaled_in_place(rng):
    loss = _HeldGradientMSE()
    model = refnn.Sequential([layers.Dense(3, activation="relu")], input_dim=6, seed=0)
    model.compile(optimizers.SGD(0.01), loss)
    model.train_on_batch(rng.standard_normal((5, 6)), rng.standard_normal((5, 3)), sample_weight=rng.random(5))
    np.testing.assert_array_equal(loss.held, loss.kept)


def test_the_gradient_the_loss_hands_the_model_is_never_overwritten(rng):
    """A ReLU output under a linear Activation receives the loss's gradient untouched: it must not
    write its dZ over it (only over an array a layer above promised as new)."""
    model = refnn.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3, activation="relu"),
                              layers.Activation("linear")], input_dim=6, seed=0)
    model.compile(optimizers.SGD(0.01), "mse")
    handed = []
    value_and_gradient = model.loss.value_and_gradient

    def capture(*args, **kwargs):
        loss, gradient = value_and_gradient(*args, **kwargs)
        handed.append((gradient, gradient.copy()))
        return loss, gradient

    model.loss.value_and_gradient = capture
    model.train_on_batch(rng.standard_normal((5, 6)), rng.standard_normal((5, 3)))
    gradient, kept = handed[0]
    assert np.any(kept != 0) and np.any(kept * (model.layers[1].Y == 0) != 0)  # a mask would change it
    np.testing.assert_array_equal(gradient, kept)


class _KeepsItsInputGradient(layers.Layer):
    """An identity layer that keeps the ∂E/∂X it returns (for inspection): not the step's to overwrite."""

    def forward(self, x, training=False):
        return x

    def backward(self, dy, need_input_grad=True):
        self.dX = 2 * dy
        return self.dX


def test_an_array_a_layer_keeps_is_never_overwritten(rng):
    model = refnn.Sequential([layers.Dense(4, activation="relu"), _KeepsItsInputGradient(),
                              layers.Dense(3, activation="softmax")], input_dim=6, seed=0)
    model.compile(optimizers.SGD(0.01), "categorical_crossentropy")
    x, y = rng.standard_normal((8, 6)), np.eye(3)[rng.integers(0, 3, 8)]
    twin = copy.deepcopy(model)
    model.train_step(x, y)
    twin.loss_and_gradients(x, y)  # the public path: nobody writes over anything
    np.testing.assert_array_equal(model.layers[1].dX, twin.layers[1].dX)
    assert np.any(model.layers[0].Y == 0)  # ReLU's mask had zeros to write


def test_a_layer_that_widens_to_float64_gets_the_same_numbers_in_a_step(rng):
    """Dense casts its input to its dtype on every path (a custom layer may hand on float64)."""

    class Widen(layers.Layer):
        def forward(self, x, training=False):
            return x.astype(np.float64)

        def backward(self, dy, need_input_grad=True):
            return dy

    model = refnn.Sequential([layers.Dense(4, activation="relu"), Widen(), layers.Dense(3, activation="softmax")],
                             input_dim=6, seed=0, dtype="float32")
    model.compile(optimizers.SGD(0.01), "categorical_crossentropy")
    x, y = rng.standard_normal((8, 6)).astype(np.float32), np.eye(3, dtype=np.float32)[rng.integers(0, 3, 8)]
    public_loss, _ = copy.deepcopy(model).loss_and_gradients(x, y)
    assert model.train_step(x, y) == public_loss
    assert model.layers[2].X.dtype == np.float32


def test_a_subclass_of_an_in_place_activation_computes_out_of_place_unless_it_says_so(rng):
    class CappedReLU(activations.ReLU):
        def __call__(self, x):
            return np.minimum(np.maximum(x, 0), 1.0)

    assert activations.ReLU.in_place and not CappedReLU.in_place
    model = refnn.Sequential([layers.Dense(4, activation=CappedReLU()), layers.Dense(1)], input_dim=6, seed=0)
    model.compile(optimizers.SGD(0.01), "mse")
    model.fit(rng.standard_normal((8, 6)), rng.standard_normal((8, 1)), epochs=1, verbose=0)
    assert model.layers[0].Z is not None  # kept: the subclass's backward might read it


@pytest.mark.parametrize("activation", ["relu", "tanh", "linear"])
def test_in_place_activations_compute_the_same_numbers_into_out(activation, rng):
    f = activations.get(activation)
    assert f.in_place
    z, dy = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    z[0, 0] = 0.0  # ReLU's gradient at exactly 0 is 0 (TensorFlow's)
    y = f(z)
    dx = f.backward(None, y, dy)
    dy_kept = dy.copy()
    np.testing.assert_array_equal(f.backward(None, y, dy, out=dy), dx)
    assert not np.array_equal(dy_kept, dy) or activation == "linear"
    z_kept = z.copy()
    np.testing.assert_array_equal(f(z, out=z), y)
    np.testing.assert_array_equal(f(z_kept), y)  # the out-of-place call leaves its input alone


# ---- block-by-block packed updates -----------------------------------------------------------------
def _wide_model(dtype):
    """More parameters (74,003) than one block holds, in either dtype (65,536 float32, 32,768 float64)."""
    return refnn.Sequential([layers.Dense(1000, activation="relu"), layers.Dense(3, activation="softmax")],
                            input_dim=70, seed=1, dtype=dtype)


OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(0.01),
    "adam-amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01, weight_decay=0.05),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adamax": lambda: optimizers.Adamax(0.01),
    "rmsprop-centered": lambda: optimizers.RMSprop(0.01, centered=True, momentum=0.5),
    "adagrad": lambda: optimizers.Adagrad(0.05),
    "adadelta": lambda: optimizers.Adadelta(1.0),
    "sgd-nesterov": lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd-clipvalue": lambda: optimizers.SGD(0.05, clipvalue=1e-3),
    "quickprop": lambda: optimizers.Quickprop(0.05, decay=1e-4),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", OPTIMIZERS, ids=str)
def test_a_packed_update_block_by_block_equals_one_call_per_tensor(name, dtype, rng):
    x, y = rng.standard_normal((16, 70)), np.eye(3)[rng.integers(0, 3, 16)]
    model = _wide_model(dtype)
    model.compile(OPTIMIZERS[name](), "categorical_crossentropy")
    per_tensor = OPTIMIZERS[name]()
    params = {path: value.copy() for path, value in model.params.items()}
    for _ in range(4):
        loss, grads = model.loss_and_gradients(x, y)  # a plain dict: one update per tensor
        model.train_step(x, y)  # the same gradients, packed, block by block
        per_tensor.apply(params, grads, loss=loss)
    packed = model.optimizer._packed
    assert len(packed.blocks) == -(-model.params.flat.size * np.dtype(dtype).itemsize // BLOCK_BYTES) > 1
    for path in params:
        np.testing.assert_array_equal(model.params[path], params[path])
    for path, slots in model.optimizer.state.items():  # the public per-path state is the same too
        if path != optimizers.base.PACKED:
            for slot, value in slots.items():
                np.testing.assert_array_equal(value, per_tensor.state[path][slot])


def test_block_scratch_arrays_hold_one_block_not_the_model(rng):
    x, y = rng.standard_normal((16, 70)), np.eye(3)[rng.integers(0, 3, 16)]
    model = _wide_model("float32")
    model.compile(optimizers.Adam(0.01), "categorical_crossentropy")
    model.train_step(x, y)
    scratch = model.optimizer._scratch_arrays[optimizers.base._BLOCKS]
    assert set(scratch) == {"work", "denominator"}
    assert all(array.nbytes == BLOCK_BYTES for array in scratch.values())
    assert model.params.flat.nbytes > BLOCK_BYTES


@pytest.mark.parametrize("placement", ["sqrt_v", "sqrt_v_hat"])
def test_scalars_computed_once_per_step_follow_each_parameters_dtype(placement, rng):
    """Adam's bias corrections are computed once per step (``_per_step``) and reused by every
    tensor or block of it; a float32 and a float64 parameter in one step each get their own."""
    grads = {"a": rng.standard_normal(5).astype(np.float32), "b": rng.standard_normal(5)}
    together = optimizers.Adam(0.1, epsilon_placement=placement)
    params = {"a": np.ones(5, np.float32), "b": np.ones(5)}
    alone = {path: optimizers.Adam(0.1, epsilon_placement=placement) for path in params}
    apart = {path: value.copy() for path, value in params.items()}
    for _ in range(3):
        together.apply(params, grads)
        for path in params:
            alone[path].apply({path: apart[path]}, {path: grads[path]})
    for path in params:
        assert params[path].dtype == apart[path].dtype
        np.testing.assert_array_equal(params[path], apart[path])
