"""The names a Keras script touches, served by refnn (``import refnn as keras``)."""

import random
import re

import numpy as np
import pytest

import refnn
from refnn import layers


@pytest.fixture
def fresh_globals():
    """refnn's global settings and NumPy's global generator, restored after the test."""
    floatx, seeds = refnn.config.floatx(), refnn.utils.seeding._MODEL_SEEDS
    constants = refnn.config.keras_float32_constants()
    state = np.random.get_state()
    yield
    refnn.config.set_floatx(floatx)
    refnn.config.set_keras_float32_constants(constants)
    refnn.utils.seeding._MODEL_SEEDS = seeds
    np.random.set_state(state)


class TestInput:
    def test_input_first_builds_the_model(self):
        model = refnn.Sequential([refnn.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)], seed=0)
        assert model.built and model.input_dim == 4
        assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 2), (2,)]

    def test_input_by_add_then_layers(self):
        model = refnn.Sequential(seed=0)
        model.add(refnn.layers.Input((5,)))
        assert not model.built
        model.add(layers.Dense(2, activation="relu"))
        model.add(layers.Dense(1))
        assert model.built and model.input_dim == 5 and model.output_dim == 1

    def test_same_seed_same_weights_with_or_without_input(self):
        with_input = refnn.Sequential([refnn.Input((4,)), layers.Dense(3)], seed=3)
        with_dim = refnn.Sequential([layers.Dense(3)], input_dim=4, seed=3)
        for a, b in zip(with_input.get_weights(), with_dim.get_weights()):
            np.testing.assert_array_equal(a, b)

    def test_input_layer_and_integer_shape(self):
        assert refnn.Sequential([layers.InputLayer(shape=6), layers.Dense(1)], seed=0).input_dim == 6

    def test_input_after_a_layer_is_refused(self):
        with pytest.raises(ValueError, match="An Input can only open a model"):
            refnn.Sequential([layers.Dense(3), refnn.Input((4,))])

    def test_image_shape_refused_with_the_reshape(self):
        with pytest.raises(ValueError, match=r"x.reshape\(len\(x\), -1\).*Received|Received.*reshape"):
            refnn.Input((28, 28))

    def test_width_disagreeing_with_input_dim(self):
        with pytest.raises(ValueError, match="disagrees"):
            refnn.Sequential([refnn.Input((4,)), layers.Dense(3)], input_dim=5)

    def test_unsupported_keyword(self):
        with pytest.raises(TypeError, match="sparse"):
            refnn.Input((4,), sparse=True)


class TestConfig:
    def test_default_float_is_float64(self, fresh_globals):
        assert refnn.config.floatx() == "float64"
        assert refnn.Sequential([layers.Dense(1)], input_dim=2).dtype == np.float64

    def test_set_floatx_applies_to_new_models(self, fresh_globals):
        refnn.config.set_floatx("float32")
        assert refnn.Sequential([layers.Dense(1)], input_dim=2).dtype == np.float32
        assert refnn.Sequential([layers.Dense(1)], input_dim=2, dtype="float64").dtype == np.float64

    def test_set_floatx_refuses_other_types(self, fresh_globals):
        with pytest.raises(ValueError, match="float16"):
            refnn.config.set_floatx("float16")

    def test_epsilon(self):
        assert refnn.config.epsilon() == 1e-7


class TestSetRandomSeed:
    def test_same_seed_same_models_and_numpy_draws(self, fresh_globals):
        def run():
            refnn.utils.set_random_seed(42)
            data = np.random.rand(3)
            first = refnn.Sequential([layers.Dense(2)], input_dim=3).get_weights()
            second = refnn.Sequential([layers.Dense(2)], input_dim=3).get_weights()
            return data, random.random(), first, second

        a, b = run(), run()
        np.testing.assert_array_equal(a[0], b[0])
        assert a[1] == b[1]
        for x, y in zip(a[2] + a[3], b[2] + b[3]):
            np.testing.assert_array_equal(x, y)
        assert not np.array_equal(a[2][0], a[3][0])  # each model its own seed

    def test_bad_seed(self, fresh_globals):
        for bad in (-1, 2**32, None, True, 1.0, "1"):
            with pytest.raises(ValueError, match=re.escape(f"`seed` must be an integer in [0, 2**32). "
                                                           f"Received: seed={bad!r}")):
                refnn.utils.set_random_seed(bad)


class TestToCategorical:
    def test_keras_rules(self):
        np.testing.assert_array_equal(refnn.utils.to_categorical([0, 2, 1]), np.eye(3)[[0, 2, 1]])
        assert refnn.utils.to_categorical(np.array([[1], [0]]), num_classes=4).shape == (2, 4)

    @pytest.mark.parametrize("ids, num_classes, match", [
        ([0, 1.5], None, r"`x` must hold non-negative integers. Received: x value 1.5"),
        ([0, 3], 3, r"`x` must hold integer class ids in \[0, 3\). Received: x value 3"),
        ([-1, 0], None, r"`x` must hold non-negative integers. Received: x value -1"),
        ([], None, r"`x` is empty, so the number of classes is unknown: pass `num_classes`. Received: x=\[\]"),
        ([0, 1], 0, r"`num_classes` must be a positive integer. Received: num_classes=0"),
    ])
    def test_bad_ids(self, ids, num_classes, match):
        with pytest.raises(ValueError, match=match):
            refnn.utils.to_categorical(ids, num_classes=num_classes)

    def test_shapes(self):
        assert refnn.utils.to_categorical(np.zeros((2, 3), int), num_classes=2).shape == (2, 3, 2)
        assert refnn.utils.to_categorical(np.zeros((0, 1), int), num_classes=2).shape == (0, 2)


class TestNamespaces:
    def test_from_refnn_import_keras(self):
        from refnn import keras

        assert keras.Sequential is refnn.Sequential and keras.layers.Dense is layers.Dense
        assert keras.models.load_model is refnn.load_model and keras.Input is refnn.Input

    @pytest.mark.parametrize("namespace, name, hint", [
        (refnn.layers, "Conv2D", "use Keras itself"),
        (refnn.layers, "Flatten", "reshape"),
        (refnn, "Model", "Sequential"),
        (refnn.models, "Model", "from_keras"),
        (refnn.optimizers, "Lion", "Adam"),
    ])
    def test_missing_names_say_what_refnn_has(self, namespace, name, hint):
        with pytest.raises(AttributeError, match=hint):
            getattr(namespace, name)

    def test_python_probes_stay_plain(self):
        assert not hasattr(refnn.layers, "__wrapped__")

    def test_regularizer_aliases(self):
        assert refnn.regularizers.l2(1e-4).get_config() == refnn.regularizers.L2(1e-4).get_config()
        assert refnn.regularizers.l1_l2 is refnn.regularizers.L1L2


class TestInputShapeOnTheFirstLayer:
    def test_input_shape_declares_the_input(self):
        model = refnn.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(1)], seed=0)
        assert model.built and model.input_dim == 4

    def test_input_dim_by_add(self):
        model = refnn.Sequential(seed=0)
        model.add(layers.Dense(2, input_dim=5))
        assert model.built and model.input_dim == 5

    def test_unknown_layer_keyword_named(self):
        with pytest.raises(TypeError, match="kernel_constraint"):
            layers.Dense(3, kernel_constraint="non_neg")

    def test_both_forms_refused(self):
        with pytest.raises(ValueError, match="not both"):
            layers.Dense(3, input_shape=(4,), input_dim=4)


def test_two_metrics_with_one_log_name_are_refused():
    model = refnn.Sequential([refnn.Input((3,)), layers.Dense(1, activation="sigmoid")], seed=0)
    with pytest.raises(ValueError, match=r"same name \['auc'\].*Received: metrics=\['auc', 'auc'\]"):
        model.compile("adam", "binary_crossentropy", metrics=[refnn.metrics.AUC(), "auc"])


def test_mode_auto_finds_a_weighted_metrics_direction():
    """Keras looks for the monitored metric among the weighted metrics too; refnn used to raise
    "cannot tell whether `val_accuracy` should be minimised or maximised" here."""
    model = refnn.Sequential([refnn.Input((3,)), layers.Dense(1, activation="sigmoid")], seed=0)
    model.compile("adam", "binary_crossentropy", weighted_metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((20, 3)), (rng.random(20) > 0.5).astype(float)
    stop = refnn.callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    model.fit(x, y, epochs=2, validation_split=0.25, callbacks=[stop], verbose=0)
    assert refnn.callbacks.base.monitor_direction(stop, "val_accuracy") == "max"


def test_input_refuses_a_misspelt_keyword():
    with pytest.raises(TypeError, match="unexpected keyword argument.*shap"):
        refnn.Input((4,), shap=None)


@pytest.mark.parametrize("value, expected", [("1", "True"), ("true", "True"), ("0", "False"), ("", "False")])
def test_the_environment_switches_keras_float32_constants_on(value, expected):
    import os
    import subprocess
    import sys

    code = ("import refnn; print(refnn.config.keras_float32_constants(), "
            "refnn.optimizers.Adam().keras_float32_constants)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "REFNN_KERAS_FLOAT32_CONSTANTS": value})
    assert out.stdout.split() == [expected, expected], out.stderr


def test_a_bad_environment_value_is_named():
    import os
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", "import refnn"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "REFNN_KERAS_FLOAT32_CONSTANTS": "yes"})
    assert out.returncode != 0 and "REFNN_KERAS_FLOAT32_CONSTANTS='yes'" in out.stderr


def test_set_keras_float32_constants_applies_to_new_optimizers(fresh_globals):
    refnn.config.set_keras_float32_constants(True)
    assert refnn.optimizers.get("adam").keras_float32_constants
    assert not refnn.optimizers.Adam(keras_float32_constants=False).keras_float32_constants
    with pytest.raises(TypeError, match="`value` must be a bool. Received: value='yes'"):
        refnn.config.set_keras_float32_constants("yes")
