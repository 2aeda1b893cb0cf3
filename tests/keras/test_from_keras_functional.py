"""``from_keras`` of a Functional ``keras.Model(inputs, outputs)`` that is one chain: the same refnn
model as from the equivalent ``keras.Sequential``, predictions equal to Keras's to round-off;
branches, merges, shared layers and several inputs refused, naming the layer."""

import keras
import numpy as np
import pytest

import refnn
from keras_bridge import NotMappableError, compare, from_keras
from refnn.models.saving import model_config
from refnn.utils.tolerance import relative_error


def _chain_layers():
    return [keras.layers.Dense(6, activation="gelu", name="hidden"), keras.layers.Dropout(0.2, seed=1, name="drop"),
            keras.layers.Dense(5, name="pre"), keras.layers.LeakyReLU(negative_slope=0.1, name="leaky"),
            keras.layers.Activation("selu", name="act"), keras.layers.Dense(3, activation="softmax", name="out")]


def _functional(layers):
    inputs = keras.Input((4,), name="x")
    h = inputs
    for layer in layers:
        h = layer(h)
    return keras.Model(inputs, h, name="chain")


def test_a_functional_chain_maps_like_the_same_sequential(float64):
    functional = _functional(_chain_layers())
    sequential = keras.Sequential([keras.Input((4,)), *_chain_layers()], name="chain")
    sequential.set_weights(functional.get_weights())
    a, b = from_keras(functional, seed=0), from_keras(sequential, seed=0)
    assert model_config(a) == model_config(b)
    assert [(type(l).__name__, l.name) for l in a.layers] == [(type(l).__name__, l.name) for l in b.layers]
    assert a.input_dim == b.input_dim == 4 and a.dtype == b.dtype == np.float64
    for path, value in a.params.items():
        np.testing.assert_array_equal(value, b.params[path])
    x = np.random.default_rng(0).standard_normal((10, 4))
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    assert relative_error(a.predict(x), functional.predict(x, verbose=0)) <= 1e-12


def test_a_compiled_functional_chain_trains_like_keras(float64):
    functional = _functional([keras.layers.Dense(6, activation="elu"), keras.layers.Dense(2)])
    functional.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    model = from_keras(functional)
    assert model.optimizer is not None and type(model.loss).__name__ == "MeanSquaredError"
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((32, 4)), rng.standard_normal((32, 2))
    result = compare.training(functional, x, y, epochs=3, batch_size=8)
    result.assert_passed()
    assert result.max_rel <= 1e-8


def test_a_branching_model_is_refused_naming_the_layer_where_it_branches(float64):
    inputs = keras.Input((4,))
    h = keras.layers.Dense(5, name="trunk")(inputs)
    left = keras.layers.Dense(3, name="left")(h)
    right = keras.layers.Dense(3, name="right")(h)
    model = keras.Model(inputs, keras.layers.Add(name="merge")([left, right]))
    with pytest.raises(NotMappableError, match=r"branches after 'trunk', whose output feeds \['left', 'right'\]"):
        from_keras(model)


def test_a_skip_connection_from_the_input_is_refused(float64):
    inputs = keras.Input((4,))
    h = keras.layers.Dense(4, name="inner")(inputs)
    model = keras.Model(inputs, keras.layers.Add(name="skip")([inputs, h]))
    with pytest.raises(NotMappableError, match=r"branches after 'the Input'"):
        from_keras(model)


def test_a_shared_layer_is_refused(float64):
    inputs = keras.Input((4,))
    shared = keras.layers.Dense(4, name="shared")
    model = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(NotMappableError, match=r"layer 'shared' is called 2 times \(shared weights\)"):
        from_keras(model)


def test_several_inputs_or_outputs_are_refused(float64):
    a, b = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([a, b], keras.layers.Concatenate()([a, b]))
    with pytest.raises(NotMappableError, match=r"has 2 input\(s\) and 1 output\(s\)"):
        from_keras(model)


def test_unmapped_layers_in_a_chain_are_refused_by_name(float64):
    model = _functional([keras.layers.Dense(4), keras.layers.BatchNormalization(name="bn")])
    with pytest.raises(NotMappableError, match=r"Layer 'bn' \(BatchNormalization\) has no refnn counterpart"):
        from_keras(model)


def test_a_subclassed_model_is_refused(float64):
    class Tiny(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Tiny()
    model(np.zeros((1, 3)))
    with pytest.raises(NotMappableError, match="a subclassed model has no layer graph to read"):
        from_keras(model)


def test_a_refnn_model_is_refused_with_a_hint():
    model = refnn.Sequential([refnn.layers.Dense(2)], input_dim=2)
    with pytest.raises(NotMappableError, match="to_keras goes the other way"):
        from_keras(model)
