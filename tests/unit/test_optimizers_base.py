"""The optimizer pipeline (clip → weight decay → rule → iterations += 1), its checks, ``get`` and
the ``keras_float32_constants`` mechanism."""

from __future__ import annotations

import numpy as np
import pytest

from refnn import optimizers
from refnn.optimizers import (SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Nadam, Optimizer, Quickprop,
                              RMSprop, Rprop, schedules)


def test_pipeline_order_clip_then_decay_then_rule_then_count():
    opt = SGD(0.1, momentum=0.9, clipnorm=1.0, weight_decay=0.5)
    params = {"d/kernel": np.array([3.0, 4.0])}
    opt.apply(params, {"d/kernel": np.array([6.0, 8.0])})
    # clip: ‖g‖ = 10 > 1 → g = (g·1)/max(10, 1) = [0.6, 0.8]
    g = np.array([6.0 * 1.0 / 10.0, 8.0 * 1.0 / 10.0])
    # decay before the step, with this step's lr: W = W − (W·0.5)·0.1 = [2.85, 3.8]
    w = np.array([3.0, 4.0]) - np.array([3.0 * 0.5 * 0.1, 4.0 * 0.5 * 0.1])
    # rule: m = 0·0.9 − g·0.1; W = W + m = [2.79, 3.72]
    np.testing.assert_array_equal(params["d/kernel"], w + (0.0 - g * 0.1))
    assert opt.iterations == 1


def test_clipnorm_is_per_tensor():
    opt = SGD(1.0, clipnorm=2.0)
    params = {"a": np.zeros(2), "b": np.zeros(2)}
    opt.apply(params, {"a": np.array([3.0, 4.0]), "b": np.array([0.3, 0.4])})
    np.testing.assert_array_equal(params["a"], -np.array([3.0 * 2.0 / 5.0, 4.0 * 2.0 / 5.0]))
    np.testing.assert_array_equal(params["b"], -np.array([0.3, 0.4]))  # ‖g‖ = 0.5 < 2: unchanged


def test_global_clipnorm_scales_every_tensor_by_one_factor():
    opt = SGD(1.0, global_clipnorm=2.5)
    params = {"a": np.zeros(2), "b": np.zeros(1)}
    opt.apply(params, {"a": np.array([3.0, 4.0]), "b": np.array([0.0])})
    # ‖G‖ = 5: scale = 2.5·min(1/5, 1/2.5) = 0.5 on every tensor
    np.testing.assert_array_equal(params["a"], -np.array([1.5, 2.0]))
    np.testing.assert_array_equal(params["b"], [0.0])
    small = SGD(1.0, global_clipnorm=10.0)
    params = {"a": np.zeros(2)}
    small.apply(params, {"a": np.array([3.0, 4.0])})  # ‖G‖ = 5 < 10: scale 10·(1/10) = 1
    np.testing.assert_array_equal(params["a"], [-3.0, -4.0])


def test_global_clipnorm_of_a_non_finite_norm_is_nan_like_keras():
    opt = SGD(1.0, global_clipnorm=1.0)
    params = {"a": np.zeros(2), "b": np.zeros(1)}
    opt.apply(params, {"a": np.array([np.inf, 1.0]), "b": np.array([1.0])})
    assert np.all(np.isnan(params["a"])) and np.all(np.isnan(params["b"]))


def test_clipvalue_clips_each_element():
    opt = SGD(1.0, clipvalue=0.5)
    params = {"a": np.zeros(3)}
    opt.apply(params, {"a": np.array([-2.0, 0.25, 0.7])})
    np.testing.assert_array_equal(params["a"], [0.5, -0.25, -0.5])


@pytest.mark.parametrize("clip", [{"clipnorm": 0.1}, {"clipvalue": 0.1}, {"global_clipnorm": 0.1}])
def test_clipping_leaves_the_callers_gradients_alone(clip):
    grads = {"a": np.array([1.0, -2.0])}
    SGD(0.1, **clip).apply({"a": np.zeros(2)}, grads)
    np.testing.assert_array_equal(grads["a"], [1.0, -2.0])


def test_weight_decay_uses_the_learning_rate_of_this_step_and_skips_paths_without_gradient():
    lr = schedules.PiecewiseConstantDecay([0], [0.5, 0.25])  # step 0: 0.5, then 0.25
    opt = SGD(lr, weight_decay=0.1)
    params = {"a": np.array([2.0]), "frozen": np.array([2.0])}
    opt.apply(params, {"a": np.array([0.0])})
    assert params["a"][0] == 2.0 - 2.0 * 0.1 * 0.5
    opt.apply(params, {"a": np.array([0.0])})
    assert params["a"][0] == 1.9 - 1.9 * 0.1 * 0.25
    assert params["frozen"][0] == 2.0  # no gradient: not decayed (Keras drops it before decay)


def test_state_is_keyed_by_path_so_layers_never_mix():
    rng = np.random.default_rng(0)
    kernels = [rng.normal(size=(3, 2)) for _ in range(2)]
    grads = [[rng.normal(size=(3, 2)) for _ in range(2)] for _ in range(5)]
    joint = Adam(0.1)
    params = {"dense_0/kernel": kernels[0].copy(), "dense_1/kernel": kernels[1].copy()}
    for g0, g1 in grads:
        joint.apply(params, {"dense_0/kernel": g0, "dense_1/kernel": g1})
    for i in range(2):
        alone = Adam(0.1)
        single = {"kernel": kernels[i].copy()}
        for g in grads:
            alone.apply(single, {"kernel": g[i]})
        np.testing.assert_array_equal(params[f"dense_{i}/kernel"], single["kernel"])
    assert set(joint.state) == {"dense_0/kernel", "dense_1/kernel"}


def test_a_parameter_without_gradient_is_left_untouched():
    opt = Adam(0.1)
    params = {"a": np.ones(2), "b": np.ones(2)}
    opt.apply(params, {"a": np.ones(2)})
    np.testing.assert_array_equal(params["b"], np.ones(2))
    assert "b" not in opt.state


def test_empty_gradients_are_a_no_op_like_keras():
    opt = SGD(0.1)
    opt.apply({"a": np.ones(2)}, {})
    assert opt.iterations == 0


def test_unknown_gradient_path_raises():
    with pytest.raises(ValueError, match=r"`grads` has paths that are not in `params`: \['b'\]"):
        SGD().apply({"a": np.ones(2)}, {"b": np.ones(2)})


def test_gradient_shape_mismatch_raises_with_both_shapes():
    with pytest.raises(ValueError, match=r"at 'a'. Received: grad.shape=\(3,\), param.shape=\(2,\)"):
        SGD().apply({"a": np.ones(2)}, {"a": np.ones(3)})


def test_parameters_must_be_float_arrays():
    with pytest.raises(TypeError, match=r"params\['a'\] of type list"):
        SGD().apply({"a": [1.0, 2.0]}, {"a": np.ones(2)})
    with pytest.raises(TypeError, match=r"params\['a'\] of type ndarray"):
        SGD().apply({"a": np.ones(2, dtype=int)}, {"a": np.ones(2)})


def test_schedule_is_called_with_the_iterations_before_the_update():
    class Recording(schedules.LearningRateSchedule):
        def __init__(self):
            self.steps = []

        def __call__(self, step, dtype=np.float64):
            self.steps.append(step)
            return 0.1

        def get_config(self):
            return {}

    schedule = Recording()
    opt = SGD(schedule)
    for _ in range(3):
        opt.apply({"a": np.ones(1)}, {"a": np.ones(1)})
    assert schedule.steps == [0, 1, 2]


def test_a_plain_callable_learning_rate_takes_no_argument_like_keras():
    rates = iter([0.5, 0.25])
    opt = SGD(lambda: next(rates))
    params = {"a": np.array([1.0])}
    opt.apply(params, {"a": np.array([1.0])})
    opt.apply(params, {"a": np.array([1.0])})
    assert params["a"][0] == 1.0 - 0.5 - 0.25


def test_build_creates_state_without_updating():
    opt = Adam()
    params = {"a": np.ones((2, 2))}
    opt.build(params)
    assert set(opt.state["a"]) == {"momentum", "velocity"} and opt.iterations == 0
    np.testing.assert_array_equal(params["a"], np.ones((2, 2)))


# ---- keras_float32_constants ---------------------------------------------------------------------
def _run(opt, steps=20, dtype=np.float64):
    rng = np.random.default_rng(7)
    params = {"w": rng.normal(size=5).astype(dtype)}
    for _ in range(steps):
        opt.apply(params, {"w": rng.normal(size=5)}, loss=1.0)
    return params["w"]


def f32(x):
    return float(np.float32(x))


def test_keras_float32_constants_rounds_sgd_momentum_and_weight_decay():
    flagged = _run(SGD(0.1, momentum=0.9, weight_decay=0.01, keras_float32_constants=True))
    rounded_by_hand = _run(SGD(0.1, momentum=f32(0.9), weight_decay=f32(0.01)))
    np.testing.assert_array_equal(flagged, rounded_by_hand)
    assert not np.array_equal(flagged, _run(SGD(0.1, momentum=0.9, weight_decay=0.01)))


def test_keras_float32_constants_rounds_adam_betas_only_inside_the_powers():
    flagged = _run(Adam(0.1, keras_float32_constants=True))
    # rounding β everywhere (also in the 1 − β EMA factors) is *not* what Keras does
    everywhere = _run(Adam(0.1, beta_1=f32(0.9), beta_2=f32(0.999)))
    exact = _run(Adam(0.1))
    assert not np.array_equal(flagged, everywhere) and not np.array_equal(flagged, exact)


@pytest.mark.parametrize("factory", [lambda **k: RMSprop(0.01, momentum=0.9, centered=True, **k),
                                     lambda **k: Adadelta(1.0, **k), lambda **k: Quickprop(0.01, **k),
                                     lambda **k: Rprop("irprop-", **k)],
                         ids=["rmsprop", "adadelta", "quickprop", "rprop"])
def test_keras_float32_constants_changes_nothing_where_keras_casts_nothing(factory):
    np.testing.assert_array_equal(_run(factory(keras_float32_constants=True)), _run(factory()))


def test_keras_float32_constants_evaluates_schedules_in_float32():
    schedule = schedules.ExponentialDecay(0.05, 7, 0.9)
    opt = SGD(schedule, keras_float32_constants=True)
    opt.iterations = 5
    assert opt.current_learning_rate() == schedule(5, dtype=np.float32)
    assert opt.current_learning_rate() == float(np.float32(opt.current_learning_rate()))
    assert SGD(schedule).current_learning_rate() == schedule(0)


@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Rprop,
                                 Quickprop])
def test_keras_float32_constants_is_in_every_config(cls):
    opt = cls(keras_float32_constants=True)
    assert opt.get_config()["keras_float32_constants"] is True
    assert cls.from_config(opt.get_config()).keras_float32_constants is True


# ---- argument checks -------------------------------------------------------------------------
def test_two_clip_options_raise_naming_both():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm` "
                                         "can be set. Received: clipnorm=1.0, clipvalue=0.5"):
        Adam(clipnorm=1.0, clipvalue=0.5)


@pytest.mark.parametrize("name", ["clipnorm", "clipvalue", "global_clipnorm"])
def test_clip_values_must_be_positive(name):
    with pytest.raises(ValueError, match=rf"`{name}` must be a float in \(0.0, inf\). Received: {name}=0.0"):
        SGD(**{name: 0.0})


def test_negative_weight_decay_raises():
    with pytest.raises(ValueError, match=r"`weight_decay` must be a float in \[0.0, inf\). Received: weight_decay=-0.1"):
        SGD(weight_decay=-0.1)


def test_unknown_keyword_raises():
    with pytest.raises(TypeError, match="Adam got unexpected keyword argument\\(s\\): beta1"):
        Adam(beta1=0.9)


def test_keras_float32_constants_must_be_a_bool():
    with pytest.raises(TypeError, match="`keras_float32_constants` must be a bool. Received: keras_float32_constants=1"):
        SGD(keras_float32_constants=1)


def test_full_batch_flags():
    assert Rprop.requires_full_batch and Quickprop.requires_full_batch
    assert not any(cls.requires_full_batch for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta,
                                                         Adamax, Nadam))


def test_repr_shows_the_arguments_that_matter():
    assert repr(SGD(0.1, momentum=0.9)) == ("SGD(learning_rate=0.1, momentum=0.9, nesterov=False, "
                                           "momentum_form='velocity')")
    assert "clipnorm=1.0" in repr(Adam(clipnorm=1.0))
    assert "keras_float32_constants=True" in repr(Adam(keras_float32_constants=True))


# ---- get ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("SGD", SGD), ("rmsprop", RMSprop), ("Adam", Adam),
                                       ("adamw", AdamW), ("adagrad", Adagrad), ("adadelta", Adadelta),
                                       ("adamax", Adamax), ("nadam", Nadam), ("rprop", Rprop),
                                       ("quickprop", Quickprop)])
def test_get_by_name_returns_keras_defaults(name, cls):
    opt = optimizers.get(name)
    assert type(opt) is cls and opt.get_config() == cls().get_config()


def test_get_passes_instances_through_and_reads_configs():
    opt = Adam(0.5)
    assert optimizers.get(opt) is opt
    again = optimizers.get({"class_name": "Adam", "config": opt.get_config()})
    assert type(again) is Adam and again.learning_rate == 0.5


def test_get_momentum_shorthand():
    assert optimizers.get("momentum").momentum == 0.9
    assert optimizers.get("momentum", convention="textbook").momentum_form == "ema"


def test_get_unknown_name_raises():
    with pytest.raises(ValueError, match="Unknown optimizer.*Received: optimizer='adamm'"):
        optimizers.get("adamm")


def test_get_bad_convention_raises():
    with pytest.raises(ValueError, match="`convention` must be one of \\['keras', 'textbook'\\]. "
                                         "Received: convention='paper'"):
        optimizers.get("adam", convention="paper")


def test_optimizer_base_cannot_update():
    with pytest.raises(NotImplementedError):
        Optimizer().apply({"a": np.ones(1)}, {"a": np.ones(1)})


def test_optimizer_state_shape_mismatch_names_the_path():
    opt = optimizers.SGD(0.1, momentum=0.9)
    opt.apply({"w": np.zeros(3)}, {"w": np.ones(3)})
    with pytest.raises(ValueError, match=r"state for 'w' with shape \(3,\), but received a parameter of shape \(4,\)"):
        opt.apply({"w": np.zeros(4)}, {"w": np.ones(4)})


def test_get_validates_the_convention_for_instances_too():
    with pytest.raises(ValueError, match=r"`convention` must be one of .* Received: convention='nonsense'"):
        optimizers.get(optimizers.Adam(), convention="nonsense")
