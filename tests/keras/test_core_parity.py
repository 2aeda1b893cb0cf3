"""The refnn core against TensorFlow, live: forward, loss and every per-layer gradient.

For MLPs covering every hidden activation × every output/loss pair (softmax+CCE/SCCE and
sigmoid+BCE go through Keras's logits path), the same network is built in Keras from refnn's
``get_weights()`` and differentiated with ``tf.GradientTape``. Quantities are compared from the
output backwards, so a failure names the first layer that disagrees.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import refnn
from refnn import layers, losses, optimizers
from refnn.utils.tolerance import TOLERANCES, relative_error
from tests.conftest import assert_named_close

HIDDEN = ["linear", "relu", "sigmoid", "tanh", "softmax"]
# (refnn output layers, refnn loss, keras loss factory, target kind)
HEADS = {
    "linear-mse": ("linear", "mse", lambda: keras.losses.MeanSquaredError(), "real"),
    "tanh-mse": ("tanh", "mse", lambda: keras.losses.MeanSquaredError(), "real"),
    "linear-mae": ("linear", "mae", lambda: keras.losses.MeanAbsoluteError(), "real"),
    "sigmoid-bce": ("sigmoid", "binary_crossentropy", lambda: keras.losses.BinaryCrossentropy(), "binary"),
    "sigmoid-bce-smooth": ("sigmoid", losses.BinaryCrossentropy(label_smoothing=0.2),
                           lambda: keras.losses.BinaryCrossentropy(label_smoothing=0.2), "binary"),
    "softmax-cce": ("softmax", "categorical_crossentropy", lambda: keras.losses.CategoricalCrossentropy(), "onehot"),
    "softmax-cce-smooth": ("softmax", losses.CategoricalCrossentropy(label_smoothing=0.1),
                           lambda: keras.losses.CategoricalCrossentropy(label_smoothing=0.1), "onehot"),
    "softmax-scce": ("softmax", "sparse_categorical_crossentropy",
                     lambda: keras.losses.SparseCategoricalCrossentropy(), "sparse"),
    "activation_softmax-cce": ("Activation:softmax", "categorical_crossentropy",
                               lambda: keras.losses.CategoricalCrossentropy(), "onehot"),
    "linear-cce_logits": ("linear", losses.CategoricalCrossentropy(from_logits=True),
                          lambda: keras.losses.CategoricalCrossentropy(from_logits=True), "onehot"),
    "linear-bce_logits": ("linear", losses.BinaryCrossentropy(from_logits=True),
                          lambda: keras.losses.BinaryCrossentropy(from_logits=True), "binary"),
    "linear-scce_logits": ("linear", losses.SparseCategoricalCrossentropy(from_logits=True),
                           lambda: keras.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse"),
}


def build_keras_twin(model: refnn.Sequential):
    """The same architecture in Keras (current floatx), weights copied from refnn."""
    klayers = []
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            klayers.append(keras.layers.Dense(layer.units, activation=layer.activation.name,
                                              use_bias=layer.use_bias))
        elif isinstance(layer, layers.Activation):
            klayers.append(keras.layers.Activation(layer.activation.name))
        elif isinstance(layer, layers.Dropout):
            klayers.append(keras.layers.Dropout(layer.rate))
    kmodel = keras.Sequential([keras.Input((model.input_dim,)), *klayers])
    kmodel.set_weights(model.get_weights())
    return kmodel, klayers


def keras_loss_and_gradients(kmodel, klayers, kloss, x, y):
    """Loss, output and ∂E/∂(every kernel, bias and layer input) from tf.GradientTape."""
    h = tf.constant(x)
    inputs = []
    with tf.GradientTape() as tape:
        tape.watch(h)
        for klayer in klayers:
            inputs.append(h)
            h = klayer(h, training=True)
        loss = kloss(y, h)
    variables = [v.value for v in kmodel.trainable_variables]
    grads = tape.gradient(loss, inputs + kmodel.trainable_variables)
    return float(loss), h.numpy(), grads[: len(inputs)], [g.numpy() for g in grads[len(inputs):]], variables


def _targets(kind, rng, n, k, dtype):
    if kind == "real":
        return rng.standard_normal((n, k)).astype(dtype)
    if kind == "binary":
        return rng.integers(0, 2, (n, k)).astype(dtype)
    labels = rng.integers(0, k, n)
    return labels if kind == "sparse" else np.eye(k, dtype=dtype)[labels]


def _refnn_model(hidden, out, dtype, seed):
    out_layers = ([layers.Dense(3), layers.Activation(out.split(":")[1])] if out.startswith("Activation:")
                  else [layers.Dense(3, activation=out)])
    return refnn.Sequential(
        [layers.Dense(5, activation=hidden, bias_initializer="random_normal"),
         layers.Dense(4, activation="tanh", bias_initializer="random_normal"), *out_layers],
        input_dim=4, seed=seed, dtype=dtype,
    )


@pytest.mark.parametrize("head", sorted(HEADS))
@pytest.mark.parametrize("hidden", HIDDEN)
def test_forward_loss_and_per_layer_gradients(hidden, head, floatx):
    out, loss, keras_loss, kind = HEADS[head]
    # a seed of its own per case, the same in every process (hash() of a tuple is not)
    rng = np.random.default_rng([HIDDEN.index(hidden), sorted(HEADS).index(head)])
    model = _refnn_model(hidden, out, floatx, seed=3)
    model.compile(optimizers.SGD(0.1), loss)
    x = (rng.standard_normal((9, 4)) * 1.5).astype(floatx)
    y = _targets(kind, rng, 9, 3, floatx)

    mine_loss, mine_grads = model.loss_and_gradients(x, y)
    mine_out = model.forward(x, training=True)
    kmodel, klayers = build_keras_twin(model)
    k_loss, k_out, k_dx, k_grads, _ = keras_loss_and_gradients(kmodel, klayers, keras_loss(), x, y)

    assert_named_close({"output": mine_out, "loss": mine_loss}, {"output": k_out, "loss": k_loss},
                       TOLERANCES["forward"][floatx], what=f"{hidden}/{head}/{floatx} forward")
    mine, theirs = {}, {}
    paths = list(model.params)
    for path, g in zip(paths, k_grads):
        theirs[path] = g
        mine[path] = mine_grads[path]
    for layer, dx in zip(model.layers, k_dx):
        theirs[f"{layer.name}/dX"] = dx.numpy()
        mine[f"{layer.name}/dX"] = model.input_gradients[layer.name]
    # output layer first: a divergence is reported where it starts
    order = sorted(theirs, key=lambda k: [layer.name for layer in model.layers].index(k.split("/")[0]), reverse=True)
    assert_named_close(mine, {k: theirs[k] for k in order}, TOLERANCES["gradients"][floatx],
                       what=f"{hidden}/{head}/{floatx} gradients")


def test_keras_takes_the_logits_path_for_confident_wrong_predictions(float64):
    """The check above would also pass if both sides clipped; this one proves both use logits."""
    model = refnn.Sequential([layers.Dense(3, activation="softmax")], input_dim=1, seed=0)
    model.set_weights([np.array([[30.0, 0.0, -30.0]]), np.zeros(3)])
    model.compile("sgd", "categorical_crossentropy")
    kmodel, klayers = build_keras_twin(model)
    x, y = np.ones((1, 1)), np.array([[0, 0, 1.0]])
    k_loss = keras_loss_and_gradients(kmodel, klayers, keras.losses.CategoricalCrossentropy(), x, y)[0]
    assert k_loss == pytest.approx(60.0, rel=1e-14)
    assert model.loss_and_gradients(x, y)[0] == pytest.approx(k_loss, rel=1e-14)


@pytest.mark.parametrize("out,loss,kind", [("sigmoid", "categorical_crossentropy", "onehot"),
                                            ("softmax", "binary_crossentropy", "binary")])
def test_keras_mismatched_output_and_crossentropy_quirk(out, loss, kind, float64):
    """Keras attaches the pre-activation to *both* sigmoid and softmax outputs, and every
    crossentropy takes it as logits (``backend/tensorflow/nn.py::_get_logits``). So Keras's
    sigmoid + CCE is really the softmax crossentropy of the sigmoid's input, and softmax + BCE the
    sigmoid crossentropy of the softmax's input — not the losses of the probabilities the model
    outputs. refnn fuses only the matching pairs and computes the mismatched ones on the
    probabilities; this test pins down the difference and its cause."""
    rng = np.random.default_rng(5)
    model = refnn.Sequential([layers.Dense(3, activation=out, bias_initializer="random_normal")], input_dim=2, seed=1)
    model.compile("sgd", loss)
    assert not model.fuses_loss_with_output
    x, y = rng.standard_normal((6, 2)), _targets(kind, rng, 6, 3, "float64")
    kmodel, klayers = build_keras_twin(model)
    keras_loss = {"categorical_crossentropy": keras.losses.CategoricalCrossentropy,
                  "binary_crossentropy": keras.losses.BinaryCrossentropy}[loss]()
    k_value = keras_loss_and_gradients(kmodel, klayers, keras_loss, x, y)[0]
    mine = model.loss_and_gradients(x, y)[0]
    assert relative_error(mine, k_value) > 1e-3  # a real difference, not rounding
    logits = model.layers[0].logits
    as_keras = type(losses.get(loss))(from_logits=True)(y, logits)
    assert as_keras == pytest.approx(k_value, rel=1e-13)


# ---- standalone losses on probabilities (the clipped path) ------------------------------------
PROBABILITY_CASES = {
    "bce": (losses.BinaryCrossentropy(), keras.losses.BinaryCrossentropy,
            lambda: (np.array([[1, 0, 1, 0, 1, 0.0]] * 2), np.array([[0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 0.3],
                                                                       [1.0, 0.0, 0.5, 1 - 1e-7, 0.999, 1e-5]]))),
    "cce": (losses.CategoricalCrossentropy(), keras.losses.CategoricalCrossentropy,
            lambda: (np.eye(3)[[2, 0, 1, 1]], np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [1e-9, 1 - 1e-9, 0.0],
                                                        [0.2, 0.9, 0.4]]))),
    "scce": (losses.SparseCategoricalCrossentropy(), keras.losses.SparseCategoricalCrossentropy,
             lambda: (np.array([2, 0, 1, 1]), np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [1e-9, 1 - 1e-9, 0.0],
                                                        [0.2, 0.9, 0.4]]))),
    "mse": (losses.MeanSquaredError(), keras.losses.MeanSquaredError,
            lambda: (np.array([[0.0, 1.0], [1.0, 1.0]]), np.array([[1e-9, 1 - 1e-9], [0.3, 2.0]]))),
}


@pytest.mark.parametrize("name", sorted(PROBABILITY_CASES))
def test_standalone_losses_on_probabilities_near_0_and_1(name, floatx):
    mine, keras_cls, data = PROBABILITY_CASES[name]
    y, p = data()
    y = y if name == "scce" else y.astype(floatx)
    p = p.astype(floatx)
    variable = tf.Variable(p)  # a variable carries no logits: Keras takes the clipped path
    with tf.GradientTape() as tape:
        k_value = keras_cls()(y, variable)
    k_grad = tape.gradient(k_value, variable).numpy()
    value, grad = mine.value_and_gradient(y, p)
    assert_named_close({"loss": value, "dL/dp": grad}, {"loss": float(k_value), "dL/dp": k_grad},
                       TOLERANCES["gradients"][floatx], what=f"{name}/{floatx}")
    assert relative_error(value, float(k_value)) <= TOLERANCES["forward"][floatx]


# ---- one fit ----------------------------------------------------------------------------------
def test_sgd_fit_history_matches_keras(float64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 4))
    y = np.eye(3)[(x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5).astype(int)]
    model = refnn.Sequential([layers.Dense(6, activation="tanh"), layers.Dense(3, activation="softmax")],
                             input_dim=4, seed=0)
    kmodel, _ = build_keras_twin(model)
    model.compile(optimizers.SGD(0.1), "categorical_crossentropy")
    kmodel.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy")
    mine = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0)  # 16+16+16+2
    theirs = kmodel.fit(x, y, epochs=5, batch_size=16, shuffle=False, verbose=0)
    assert_named_close({"loss": mine.history["loss"]}, {"loss": theirs.history["loss"]}, 1e-10, what="history")
    assert_named_close(dict(zip(model.params, model.get_weights())),
                       dict(zip(model.params, kmodel.get_weights())), TOLERANCES["training"]["float64"], what="final weights")


@pytest.mark.parametrize("after", ["dropout0", "linear", "dropout0+linear"])
def test_identity_layers_after_the_output_keep_keras_logits_path(after, float64):
    """A Dropout that is inactive, or a linear Activation, hands Keras's softmax output on as the
    same tensor, logits attached: Keras still computes the crossentropy from the logits. refnn used
    to fall back to clipped probabilities (loss 9.671 vs Keras's 71.836, and training stalled), and
    compare.gradients crashed on TensorFlow's None for the layers after the output."""
    from keras_bridge import compare

    extra = {"dropout0": [layers.Dropout(0.0)], "linear": [layers.Activation("linear")],
             "dropout0+linear": [layers.Dropout(0.0), layers.Activation("linear")]}[after]
    model = refnn.Sequential([layers.Dense(3, activation="softmax"), *extra], input_dim=2, seed=0)
    model.set_weights([np.array([[20.0, -20.0, 5.0], [30.0, 0.0, -30.0]]), np.zeros(3)])
    model.compile(optimizers.SGD(0.01), "categorical_crossentropy")
    x, y = np.array([[1.0, 1.0], [2.0, 0.5]]), np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # the logits' full penalty: clipping caps it at −log 1e-7 = 16.1
    assert model.evaluate(x, y, return_dict=True, verbose=0)["loss"] > 20
    compare.forward(model, x, y).assert_passed()
    result = compare.gradients(model, x, y).assert_passed()
    assert any("no dE/dX on either side" in note for note in result.notes)
    compare.training(model, x, y, epochs=3, batch_size=2, shuffle=False).assert_passed()


def test_an_active_dropout_after_the_output_uses_the_probabilities_in_training(float64):
    """In training a Dropout with rate > 0 makes a new tensor: Keras and refnn compute the loss from
    the dropped-out probabilities, clipped; in inference from the logits. refnn is given the mask
    Keras drew (read off Keras's own output), so both sides compute the same training loss."""
    from keras_bridge import to_keras

    model = refnn.Sequential([layers.Dense(3, activation="softmax"), layers.Dropout(0.5, seed=1)],
                             input_dim=2, seed=0)
    model.set_weights([np.array([[20.0, -20.0, 5.0], [30.0, 0.0, -30.0]]), np.zeros(3)])
    model.compile("sgd", "categorical_crossentropy")
    x, y = np.array([[1.0, 1.0], [2.0, 0.5], [-1.0, 0.3]]), np.eye(3)[[1, 2, 0]]
    kmodel = to_keras(model)
    dropped = kmodel(x, training=True)  # Keras's own tensor, as fit hands it to the loss
    mask = dropped.numpy() > 0
    assert mask.any() and not mask.all(), "the seed must drop some outputs and keep others"
    model.layers[1].fixed_mask = mask
    keras_train = float(kmodel.compute_loss(x=x, y=y, y_pred=dropped, training=True))
    refnn_train = model.loss_and_gradients(x, y, training=True)[0]
    assert relative_error(refnn_train, keras_train) <= TOLERANCES["forward"]["float64"]
    # probabilities, clipped to [1e-7, 1 − 1e-7]: never above −log(1e-7) per sample
    assert refnn_train <= -np.log(1e-7) + 1e-9
    keras_inference = float(kmodel.compute_loss(x=x, y=y, y_pred=kmodel(x, training=False), training=False))
    mine = model.evaluate(x, y, return_dict=True, verbose=0)["loss"]
    assert relative_error(mine, keras_inference) <= TOLERANCES["forward"]["float64"]
    assert keras_inference > -np.log(1e-7)  # from the logits: the full penalty of confident mistakes
