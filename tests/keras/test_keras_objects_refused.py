"""Keras objects handed to refnn by mistake (a script half converted) are refused, naming refnn's
class of the same name — never silently wrapped (a Keras metric is callable: it would otherwise
pass for a metric function and log wrong numbers)."""

import pytest

import refnn

keras = pytest.importorskip("keras")


def _model():
    return refnn.Sequential([refnn.Input((3,)), refnn.layers.Dense(2, activation="softmax")], seed=0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(optimizer="adam", loss="categorical_crossentropy", metrics=[keras.metrics.AUC()]),
     r"`metrics` holds a Keras object, AUC.*use refnn.metrics.AUC with the same arguments"),
    (dict(optimizer="adam", loss="categorical_crossentropy", metrics=[keras.metrics.KLDivergence()]),
     r"`metrics` holds a Keras object, KLDivergence.*refnn.metrics has no KLDivergence"),
    (dict(optimizer="adam", loss=keras.losses.CategoricalCrossentropy()),
     r"`loss` holds a Keras object, CategoricalCrossentropy.*use refnn.losses.CategoricalCrossentropy"),
    (dict(optimizer="adam", loss=keras.losses.Huber()), r"refnn.losses has no Huber"),
    (dict(optimizer=keras.optimizers.Adam(), loss="mse"), r"`optimizer` holds a Keras object, Adam.*refnn.optimizers"),
])
def test_keras_objects_in_compile_name_refnns_class(kwargs, match):
    with pytest.raises(TypeError, match=match):
        _model().compile(**kwargs)


def test_a_keras_layer_names_refnns():
    with pytest.raises(TypeError, match=r"`layers` holds a Keras object, Dense.*use refnn.layers.Dense"):
        refnn.Sequential([refnn.Input((3,)), keras.layers.Dense(2)])


def test_a_subclass_of_a_keras_metric_is_told_to_be_a_refnn_class():
    class MyMetric(keras.metrics.Mean):
        pass

    with pytest.raises(TypeError, match=r"MyMetric.*instead of a subclass of keras"):
        _model().compile("adam", "categorical_crossentropy", metrics=[MyMetric()])
