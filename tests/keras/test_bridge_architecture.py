"""Twins: ``to_keras`` / ``from_keras`` map layers, weights, dtype and compile settings both ways,
refuse what has no counterpart with an error that names it, and round-trip bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import refnn  # noqa: E402
from keras_bridge import NotMappableError, from_keras, keras_exact_copy, to_keras  # noqa: E402
from keras_bridge.dtypes import floatx, shortest_float32  # noqa: E402
from keras_bridge.weights import copy_from_keras, copy_to_keras  # noqa: E402
from refnn import initializers, layers, losses, optimizers, regularizers  # noqa: E402
from refnn.utils.tolerance import relative_error  # noqa: E402

DTYPES = ["float64", "float32"]


def _model(dtype="float64", compile=True, optimizer=None, **kw):
    model = refnn.Sequential([
        layers.Dense(6, activation="relu", kernel_regularizer=regularizers.L2(0.01),
                     bias_regularizer=regularizers.L1(0.002), kernel_initializer=initializers.HeNormal(seed=4)),
        layers.Dropout(0.25, seed=5),
        layers.Dense(5, activation="tanh", use_bias=False,
                     kernel_initializer=initializers.RandomUniform(-0.3, 0.2, seed=1),
                     kernel_regularizer=regularizers.L1L2(l1=0.001, l2=0.003)),
        layers.Activation("sigmoid"),
        layers.Dense(3, activation="softmax", bias_initializer="ones", name="out"),
    ], input_dim=4, seed=0, dtype=dtype, name="twin_test", **kw)
    if compile:
        model.compile(optimizer or optimizers.Adam(0.01, beta_1=0.8), losses.CategoricalCrossentropy(label_smoothing=0.1),
                      metrics=["accuracy", "mse"])
    return model


def _describe(model: refnn.Sequential) -> dict:
    """Everything that defines a refnn model's configuration, as comparable plain data."""
    def plain(value):
        if hasattr(value, "get_config"):
            return (type(value).__name__, plain(value.get_config()))
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    out = {"name": model.name, "dtype": model.dtype.name, "input_dim": model.input_dim,
           "layers": [(type(layer).__name__, plain(layer.get_config())) for layer in model.layers]}
    if model.optimizer is not None:
        out["optimizer"] = plain(model.optimizer)
        out["loss"] = plain(model.loss)
        out["metrics"] = [m.name for m in model.metrics]
    return out


@pytest.fixture(autouse=True)
def _floatx_is_not_leaked():
    before = (keras.config.floatx(), keras.config.dtype_policy().name)
    yield
    assert (keras.config.floatx(), keras.config.dtype_policy().name) == before


# ---- refnn -> Keras -------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_to_keras_same_layers_weights_and_dtype(dtype):
    model = _model(dtype)
    km = to_keras(model)
    assert isinstance(km, keras.Sequential) and km.name == "twin_test"
    assert km.inputs[0].shape == (None, 4) and km.inputs[0].dtype == dtype
    d0, drop, d1, act, out = km.layers
    assert [type(k).__name__ for k in km.layers] == ["Dense", "Dropout", "Dense", "Activation", "Dense"]
    assert [k.name for k in km.layers] == ["dense_0", "dropout_0", "dense_1", "activation_0", "out"]
    assert (d0.units, keras.activations.serialize(d0.activation), d0.use_bias) == (6, "relu", True)
    assert type(d0.kernel_initializer).__name__ == "HeNormal" and d0.kernel_initializer.seed == 4
    assert d0.kernel_regularizer.get_config() == {"l2": 0.01}
    assert type(d0.bias_regularizer).__name__ == "L1"
    assert (drop.rate, drop.seed) == (0.25, 5)
    assert d1.use_bias is False and d1.kernel_initializer.get_config()["minval"] == -0.3
    assert d1.kernel_regularizer.get_config() == {"l1": 0.001, "l2": 0.003}
    assert keras.activations.serialize(act.activation) == "sigmoid"
    assert type(out.bias_initializer).__name__ == "Ones"
    for layer in km.layers:
        assert layer.dtype_policy.name == dtype
    for mine, theirs in zip(model.get_weights(), km.get_weights()):
        assert theirs.dtype == dtype and np.array_equal(mine, theirs)  # bit for bit


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_keras_compiles_with_the_equivalent_loss_optimizer_and_metrics(dtype):
    km = to_keras(_model(dtype))
    assert type(km.optimizer).__name__ == "Adam" and km.optimizer.beta_1 == 0.8
    assert km.optimizer.learning_rate.dtype == dtype  # created under floatx(dtype)
    assert type(km.loss).__name__ == "CategoricalCrossentropy"
    assert km.loss.get_config()["label_smoothing"] == 0.1 and km.loss.dtype == dtype
    assert km.get_compile_config()["metrics"] == ["accuracy", "mse"]
    assert not to_keras(_model(dtype), compile=False).compiled
    assert not to_keras(_model(dtype, compile=False)).compiled


def test_to_keras_predicts_like_refnn():
    model = _model("float64")
    x = np.random.default_rng(0).normal(size=(7, 4))
    km = to_keras(model)
    np.testing.assert_allclose(km(x).numpy(), model.predict(x), rtol=1e-13, atol=0)


# ---- Keras -> refnn -------------------------------------------------------------------------------
def _every_supported_layer(dtype):
    km = keras.Sequential([
        keras.Input((3,), dtype=dtype),
        keras.layers.Dense(4, activation="tanh", kernel_regularizer=keras.regularizers.L2(0.02), dtype=dtype,
                           kernel_initializer=keras.initializers.GlorotNormal(seed=3)),
        keras.layers.ReLU(dtype=dtype),
        keras.layers.Dropout(0.1, seed=2, dtype=dtype),
        keras.layers.Dense(2, dtype=dtype, bias_initializer="ones"),
        keras.layers.Softmax(dtype=dtype),
    ], name="k")
    km.compile(keras.optimizers.SGD(0.1, momentum=0.5), "categorical_crossentropy", metrics=["accuracy"])
    return km


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_keras_maps_every_supported_layer(dtype):
    with floatx(dtype):  # compiled in its own dtype (a float64 model compiled under float32 is refused)
        km = _every_supported_layer(dtype)
    model = from_keras(km, seed=3, keras_exact=False)
    assert model.dtype.name == dtype and model.input_dim == 3 and model.name == "k" and model.seed == 3
    assert [type(l).__name__ for l in model.layers] == ["Dense", "Activation", "Dropout", "Dense", "Activation"]
    d0, relu, drop, d1, soft = model.layers
    assert (d0.units, d0.activation.name, d0.kernel_regularizer.l2) == (4, "tanh", 0.02)
    assert type(d0.kernel_initializer).__name__ == "GlorotNormal" and d0.kernel_initializer.seed == 3
    assert (relu.activation.name, soft.activation.name, drop.rate, drop.seed) == ("relu", "softmax", 0.1, 2)
    assert type(d1.bias_initializer).__name__ == "Ones"
    for mine, theirs in zip(model.get_weights(), km.get_weights()):
        assert mine.dtype == dtype and np.array_equal(mine, theirs)
    assert type(model.optimizer).__name__ == "SGD" and model.optimizer.momentum == 0.5
    assert model.optimizer.learning_rate == 0.1  # float32 variable read back as its shortest decimal
    assert type(model.loss).__name__ == "CategoricalCrossentropy"
    assert [m.name for m in model.metrics] == ["accuracy"]
    assert model.fuses_loss_with_output  # Softmax layer + CCE: the logits path, as Keras


def test_from_keras_reads_weights_by_name_and_checks_shapes():
    km = to_keras(_model(compile=False))
    model = _model(compile=False)
    model.layers[0].params["kernel"][...] = 0.0
    copy_from_keras(km, model)
    assert np.array_equal(model.layers[0].params["kernel"], km.layers[0].kernel.numpy())
    wrong = refnn.Sequential([layers.Dense(7), layers.Dropout(0.2), layers.Dense(5, use_bias=False),
                              layers.Activation("sigmoid"), layers.Dense(3)], input_dim=4)
    before = wrong.get_weights()
    with pytest.raises(ValueError, match=r"refnn layer 'dense_0' / Keras layer 'dense_0': shape mismatch for "
                                         r"'kernel'\. refnn: \(4, 7\), Keras: \(4, 6\)"):
        copy_from_keras(km, wrong)
    assert all(np.array_equal(a, b) for a, b in zip(before, wrong.get_weights()))  # nothing written
    no_bias = refnn.Sequential([layers.Dense(6, use_bias=False), layers.Dropout(0.2), layers.Dense(5, use_bias=False),
                                layers.Activation("sigmoid"), layers.Dense(3)], input_dim=4)
    with pytest.raises(ValueError, match=r"parameter names differ\. refnn: \['kernel'\], Keras: \['bias', 'kernel'\]"):
        copy_to_keras(no_bias, km)
    with pytest.raises(ValueError, match="different numbers of layers"):
        copy_to_keras(refnn.Sequential([layers.Dense(3)], input_dim=4), km)
    with pytest.raises(NotMappableError, match="dtype mismatch for 'kernel'. refnn: float32, Keras: float64"):
        copy_to_keras(_model("float32", compile=False), km)


# ---- round trips --------------------------------------------------------------------------------
OPTIMIZERS = [
    lambda: optimizers.SGD(0.03, momentum=0.9, nesterov=True, clipnorm=1.5),
    lambda: optimizers.RMSprop(0.002, rho=0.8, momentum=0.1, centered=True, weight_decay=0.01),
    lambda: optimizers.Adam(0.0123456789, amsgrad=True, global_clipnorm=2.0),
    lambda: optimizers.Adagrad(0.05, initial_accumulator_value=0.2, clipvalue=0.5),
    lambda: optimizers.Adam(learning_rate=optimizers.schedules.ExponentialDecay(0.05, 10, 0.9)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=["sgd", "rmsprop", "adam", "adagrad", "schedule"])
def test_round_trip_refnn_keras_refnn_is_bit_identical(dtype, make_optimizer):
    model = _model(dtype, optimizer=make_optimizer())
    back = from_keras(to_keras(model), seed=0, keras_exact=False)
    expected = _describe(model)
    if dtype == "float32" and model.optimizer.learning_rate == 0.0123456789:
        # a float32 Keras optimizer keeps its learning rate in a float32 variable: back comes the
        # shortest decimal with the same float32 (identical steps in float32)
        expected["optimizer"][1]["learning_rate"] = 0.012345679
    assert _describe(back) == expected
    for mine, theirs in zip(model.get_weights(), back.get_weights()):
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs)


def test_round_trip_of_a_keras_exact_model_with_the_default_keras_exact():
    model = keras_exact_copy(_model("float64"))
    back = from_keras(to_keras(model), seed=0)  # keras_exact=True
    assert _describe(back) == _describe(model)


def test_keras_exact_rounds_what_keras_rounds_and_leaves_the_model_alone():
    model = _model("float64")
    twin = keras_exact_copy(model)
    assert model.layers[0].kernel_regularizer.l2 == 0.01 and model.optimizer.keras_float32_constants is False
    assert twin.layers[0].kernel_regularizer.l2 == float(np.float32(0.01))
    assert twin.layers[0].regularizers["bias"].l1 == float(np.float32(0.002))
    assert twin.layers[2].regularizers["kernel"].get_config() == {"l1": float(np.float32(0.001)),
                                                                  "l2": float(np.float32(0.003))}
    assert twin.optimizer.keras_float32_constants is True
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), twin.get_weights()))
    assert from_keras(to_keras(model)).optimizer.keras_float32_constants is True  # the default twin


def test_shortest_float32():
    assert shortest_float32(0.009999999776482582) == 0.01
    assert shortest_float32(0.01) == 0.01  # not a float32 number: unchanged
    assert shortest_float32(0.5) == 0.5


# ---- refusals -----------------------------------------------------------------------------------
def _keras_model(*layers_, dtype="float32"):
    return keras.Sequential([keras.Input((3,), dtype=dtype), *layers_])


@pytest.mark.parametrize("layer, match", [
    (lambda: keras.layers.Conv2D(2, 3, name="conv"), r"Layer 'conv' \(Conv2D\) has no refnn counterpart.*"
                                                     r"keras_bridge maps Dense, Activation, Dropout"),
    (lambda: keras.layers.Dense(2, activation="mish", name="d"), r"Layer 'd' \(Dense\): activation 'mish'"),
    (lambda: keras.layers.Activation("relu6", name="a"), r"Layer 'a' \(Activation\): activation 'relu6'"),
    (lambda: keras.layers.ReLU(max_value=6.0, name="r"), r"Layer 'r' \(ReLU\): option `max_value`.*max_value=6\.0"),
    (lambda: keras.layers.Softmax(axis=0, name="s"), r"Layer 's' \(Softmax\): option `axis`.*axis=0"),
    (lambda: keras.layers.Dropout(0.5, noise_shape=(None, 1), name="dr"), r"Layer 'dr' \(Dropout\): option `noise_shape`"),
    (lambda: keras.layers.Dense(2, kernel_constraint="non_neg", name="d"), r"Layer 'd' \(Dense\): option `kernel_constraint`"),
    (lambda: keras.layers.Dense(2, activity_regularizer="l2", name="d"), r"option `activity_regularizer`"),
    (lambda: keras.layers.Dense(2, kernel_initializer=keras.initializers.TruncatedNormal(), name="d"),
     r"Layer 'd' \(Dense\) kernel_initializer: Keras initializer TruncatedNormal has no refnn counterpart"),
    (lambda: keras.layers.Dense(2, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(), name="d"),
     r"kernel_regularizer: Keras regularizer OrthogonalRegularizer has no refnn counterpart"),
    (lambda: keras.layers.BatchNormalization(name="bn"), r"Layer 'bn' \(BatchNormalization\) has no refnn counterpart"),
])
def test_from_keras_refuses_what_refnn_lacks_naming_layer_and_option(layer, match):
    km = _keras_model(layer()) if "Conv2D" not in match else keras.Sequential(
        [keras.Input((8, 8, 1)), layer(), keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(NotMappableError, match=match):
        from_keras(km)


def test_from_keras_refuses_models_it_cannot_map():
    with pytest.raises(NotMappableError, match=r"has 2 input\(s\) and 1 output\(s\)"):
        first, second = keras.Input((3,)), keras.Input((3,))
        from_keras(keras.Model([first, second], keras.layers.Add()([first, second])))
    with pytest.raises(ValueError, match="is not built"):
        from_keras(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(NotMappableError, match=r"refnn models take 2-D inputs \(N, d\). Received: Keras input shape \(None, 3, 2\)"):
        from_keras(keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(2)]))
    mixed = _keras_model(keras.layers.Dense(2, dtype="mixed_float16", name="m"))
    with pytest.raises(NotMappableError, match="Layer 'm' uses the mixed-precision policy 'mixed_float16'"):
        from_keras(mixed)
    frozen = _keras_model(keras.layers.Dense(2, name="f"))
    frozen.layers[0].trainable = False
    with pytest.raises(NotMappableError, match=r"Layer 'f' \(Dense\): frozen layers"):
        from_keras(frozen)
    weighted = _keras_model(keras.layers.Dense(2))
    weighted.compile("sgd", "mse", loss_weights=[2.0])
    with pytest.raises(NotMappableError, match="compile option `loss_weights`"):
        from_keras(weighted)


def test_to_keras_refusals():
    with pytest.raises(ValueError, match="must be built"):
        to_keras(refnn.Sequential([layers.Dense(2)]))
    with pytest.raises(TypeError, match="must be a refnn.Sequential"):
        to_keras(keras.Sequential())
    model = _model(optimizer=optimizers.Rprop())
    with pytest.raises(NotMappableError, match=r"Optimizer Rprop has no stock Keras counterpart.*keras_bridge\.plugins.*plugins=True"):
        to_keras(model)
    assert type(to_keras(model, plugins=True).optimizer).__name__ == "Rprop"
    lm = refnn.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(1)], input_dim=2)
    lm.compile(optimizers.LevenbergMarquardt(), "mse")
    with pytest.raises(NotMappableError, match="LevenbergMarquardt has no stock Keras counterpart.*LevenbergMarquardtModel"):
        to_keras(lm)
    assert type(to_keras(lm, plugins=True)).__name__ == "LevenbergMarquardtModel"
    sse = refnn.Sequential([layers.Dense(1)], input_dim=2)
    sse.compile("sgd", "sse")
    with pytest.raises(NotMappableError, match=r"Loss SumSquaredError .* has no stock Keras counterpart.*plugins=True"):
        to_keras(sse)
    assert type(to_keras(sse, plugins=True).loss).__name__ == "SumSquaredError"


# ---- Keras options that must not be dropped silently -----------------------------------------------
def _float64_keras_model():
    return keras.Sequential([keras.Input((3,), dtype="float64"), keras.layers.Dense(4, activation="tanh", dtype="float64"),
                             keras.layers.Dense(1, dtype="float64")])


def test_a_float64_model_compiled_under_float32_is_refused_and_its_float32_rate_reproduced():
    """Layers given dtype="float64" outside floatx("float64"): Keras's string loss is then float32
    (refused: refnn has no mixed precision) and its learning-rate variable float32 (reproduced)."""
    with floatx("float32"):
        km = _float64_keras_model()
        km.compile(keras.optimizers.SGD(0.1), "mse")
    with pytest.raises(NotMappableError, match=r"is float64, but its loss .* computes in float32 .*floatx was "
                                               r"'float32'.*keras_bridge.floatx\('float64'\)"):
        from_keras(km)
    with floatx("float32"):
        loss = keras.losses.MeanSquaredError()  # made under float32: it computes in float32
    with floatx("float64"):
        km = _float64_keras_model()
        km.compile(keras.optimizers.SGD(0.1), loss)  # compiled under float64 all the same
        with pytest.raises(NotMappableError, match=r"its loss MeanSquaredError computes in float32"):
            from_keras(km)
    with floatx("float32"):
        optimizer = keras.optimizers.SGD(0.1)  # its rate variable: float32
    with floatx("float64"):
        km = _float64_keras_model()
        km.compile(optimizer, "mse")
        twin = from_keras(km)
        assert twin.optimizer.learning_rate == float(np.float32(0.1))  # 0.10000000149011612, as Keras
        assert from_keras(km, keras_exact=False).optimizer.learning_rate == 0.1
        x, y = np.random.default_rng(0).normal(size=(8, 3)), np.random.default_rng(1).normal(size=(8, 1))
        km.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    twin.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(twin.get_weights(), km.get_weights()):
        assert relative_error(a, b) <= 1e-12


def test_excluded_weight_decay_and_frozen_variables_are_refused_not_dropped():
    with floatx("float64"):
        km = _float64_keras_model()
        optimizer = keras.optimizers.AdamW(0.01)
        optimizer.exclude_from_weight_decay(var_names=["bias"])
        km.compile(optimizer, "mse")
        with pytest.raises(NotMappableError, match=r"Keras AdamW: exclude_from_weight_decay\(...\) has no refnn "
                                                   r"counterpart.*name pattern 'bias'"):
            from_keras(km)
        km = _float64_keras_model()
        km.layers[0].bias.trainable = False
        km.compile(keras.optimizers.SGD(0.1), "mse")
        with pytest.raises(NotMappableError, match=r"variable\(s\) \['bias'\] are frozen \(trainable=False\)"):
            from_keras(km)
