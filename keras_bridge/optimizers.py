"""Optimizers both ways: a refnn optimizer ↔ the Keras optimizer with the same behaviour.

The mapping is read from ``get_config()`` on each side. Names and defaults are Keras's on both
sides, so most options copy over unchanged (``learning_rate`` — a float or a schedule —,
``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm`` and each algorithm's own
hyper-parameters). What is *not* a plain copy:

* **Keras's float32 constants.** In float64 mode Keras rounds some hyper-parameters through
  float32 (SGD's momentum, Adam's β's inside ``β^t``, the weight-decay factor, Adagrad's initial
  accumulator, schedules; ``docs/keras-numerics.md``). The refnn twin of a Keras optimizer is therefore
  built with ``keras_float32_constants=True``: it rounds exactly those constants, and agrees with
  Keras float64 to ~1e-16 instead of ~1e-8. (Pass ``keras_float32_constants=False`` for the
  exact-constant reading of the same config.)
* **Textbook conventions** (refnn-only options such as ``SGD(momentum_form="ema")``) map to the
  Keras optimizer that computes the same thing, when one exists exactly, or are refused with the
  reason:

  ======================================== ================================================
  refnn                                    Keras
  ======================================== ================================================
  ``SGD(lr, μ, momentum_form="trace")``    ``SGD(lr, μ)`` — ``m = −lr·v`` at a constant lr
  ``SGD(lr, μ, momentum_form="ema")``      ``SGD(lr·(1 − μ), μ)`` — ``m = −lr·V`` at a constant lr
                                           (μ as Keras uses it: rounded through float32)
  either of them under a schedule          ``plugins.SGD(momentum_form=...)`` with ``plugins=True``
                                           (stock Keras scales each gradient by the lr of its
                                           own step, these forms scale the whole velocity)
  Adam/AdamW ``epsilon_placement=          ``plugins.Adam``/``plugins.AdamW`` with ``plugins=True``
  "sqrt_v_hat"``, RMSprop/Adagrad
  ``"outside_sqrt"``, RMSprop               ``plugins.RMSprop``/``plugins.Adagrad``
  ``bias_correction``
  ======================================== ================================================

  Without ``plugins=True`` these are refused, with the reason and a pointer to
  ``docs/keras-numerics.md``; with it every refnn optimizer has a Keras counterpart.
* **Rprop, Quickprop, Levenberg–Marquardt** have no stock Keras counterpart: refused, unless
  ``plugins=True`` selects ``keras_bridge.plugins`` (Rprop, Quickprop are Keras optimizers;
  Levenberg–Marquardt needs the whole model and is ``plugins.LevenbergMarquardtModel``).
* **Keras-only options** (``use_ema``, ``loss_scale_factor``, ``gradient_accumulation_steps``)
  are refused unless they are at their inactive defaults.
* A float32 Keras optimizer keeps its learning rate in a float32 variable; it comes back as the
  shortest decimal with the same float32 (``0.01``, not ``0.009999999776482582``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import keras
import numpy as np

from refnn import optimizers as ropt
from refnn.optimizers import schedules as rsched
from keras_bridge.dtypes import floatx, shortest_float32
from keras_bridge.errors import PLUGINS_HINT, NotMappableError

__all__ = ["optimizer_to_keras", "optimizer_from_keras", "keras_exact_optimizer", "schedule_to_keras",
           "schedule_from_keras",
           "SPECS", "OptimizerSpec"]

_BASE = ("learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
# Keras base options and their inactive values
_KERAS_ONLY = {"use_ema": False, "loss_scale_factor": None, "gradient_accumulation_steps": None}
_KERAS_IGNORED = ("ema_momentum", "ema_overwrite_frequency")  # only read when use_ema=True


@dataclass(frozen=True)
class OptimizerSpec:
    """How one refnn optimizer class corresponds to one Keras class.

    Attributes:
        refnn: refnn class name (``refnn.optimizers.<refnn>``).
        keras: Keras class name (``keras.optimizers.<keras>``), or ``None`` (plugins only).
        shared: hyper-parameters with the same name and meaning on both sides.
        keras_conventions: refnn-only options and the value that computes Keras's rule.
        plugin: ``keras_bridge.plugins`` class name, for algorithms stock Keras lacks.
    """

    refnn: str
    keras: str | None
    shared: tuple = ()
    keras_conventions: dict = field(default_factory=dict)
    plugin: str | None = None


SPECS = {
    spec.refnn: spec
    for spec in (
        OptimizerSpec("SGD", "SGD", ("momentum", "nesterov"), {"momentum_form": "velocity"}),
        OptimizerSpec("RMSprop", "RMSprop", ("rho", "momentum", "epsilon", "centered"),
                      {"epsilon_placement": "inside_sqrt", "bias_correction": False}),
        OptimizerSpec("Adam", "Adam", ("beta_1", "beta_2", "epsilon", "amsgrad"), {"epsilon_placement": "sqrt_v"}),
        OptimizerSpec("AdamW", "AdamW", ("beta_1", "beta_2", "epsilon", "amsgrad"),
                      {"epsilon_placement": "sqrt_v"}),
        OptimizerSpec("Adagrad", "Adagrad", ("initial_accumulator_value", "epsilon"),
                      {"epsilon_placement": "inside_sqrt"}),
        OptimizerSpec("Adadelta", "Adadelta", ("rho", "epsilon")),
        OptimizerSpec("Adamax", "Adamax", ("beta_1", "beta_2", "epsilon")),
        OptimizerSpec("Nadam", "Nadam", ("beta_1", "beta_2", "epsilon")),
        OptimizerSpec("Rprop", None, plugin="Rprop"),
        OptimizerSpec("Quickprop", None, plugin="Quickprop"),
        OptimizerSpec("LevenbergMarquardt", None, plugin="LevenbergMarquardtModel"),
    )
}
_BY_KERAS = {spec.keras: spec for spec in SPECS.values() if spec.keras}


# ---- schedules ----------------------------------------------------------------------------------
def schedule_to_keras(schedule: rsched.LearningRateSchedule):
    """The Keras schedule of the same class and config (names and keys are Keras's on both sides)."""
    cls = getattr(keras.optimizers.schedules, type(schedule).__name__, None)
    if cls is None or not isinstance(schedule, rsched.LearningRateSchedule):
        raise NotMappableError(f"Learning-rate schedule {schedule!r} has no Keras counterpart.")
    return cls(**schedule.get_config())


def schedule_from_keras(schedule) -> rsched.LearningRateSchedule:
    """The refnn schedule of the same class and config."""
    name = type(schedule).__name__
    try:
        return rsched.deserialize({"class_name": name, "config": schedule.get_config()})
    except (ValueError, TypeError) as exc:
        raise NotMappableError(f"Keras learning-rate schedule {name} has no refnn counterpart: {exc}") from None


# ---- refnn -> Keras -----------------------------------------------------------------------------
def _spec_for(optimizer) -> OptimizerSpec:
    spec = SPECS.get(type(optimizer).__name__)
    if spec is None:
        raise NotMappableError(f"Optimizer {type(optimizer).__name__} has no Keras counterpart in keras_bridge.")
    return spec


#: where the documentation explains each textbook convention against Keras's
_EXPLAINED = "docs/keras-numerics.md, section Optimizers"


def _convert_convention(optimizer, option: str, value, kwargs: dict, plugins: bool) -> bool:
    """Rewrite ``kwargs`` for a refnn-only convention that stock Keras computes exactly, and return
    False; return True when only the textbook plugin (``keras_bridge.plugins.<name>``) computes it
    and ``plugins`` allows it; refuse otherwise, saying where the difference is explained."""
    name = type(optimizer).__name__
    if name == "SGD" and option == "momentum_form":
        if not optimizer.momentum:
            return False  # no velocity: every form is W ← W − lr·g
        if isinstance(optimizer.learning_rate, float):
            if value == "ema":  # V ← μV + (1−μ)g, W ← W − lr·V  ≡  m = −lr·V with lr_keras = lr·(1−μ)
                # Keras rounds μ through float32 (also in float64 mode): use the μ it will use
                mu = float(np.float32(optimizer.momentum))
                kwargs["learning_rate"] = optimizer.learning_rate * (1.0 - mu)
            # "trace": v ← μv + g, W ← W − lr·v  ≡  m = −lr·v, the same lr
            return False
        why = ("under a learning-rate schedule stock Keras's velocity m ← μm − lr_t·g scales each gradient by the "
               f"rate of its own step, the {value!r} form scales the whole velocity by the current rate")
    else:
        why = f"stock Keras computes {option}={SPECS[name].keras_conventions[option]!r}"
    if plugins:
        return True
    raise NotMappableError(
        f"{name}({option}={value!r}) has no stock Keras counterpart: {why} ({_EXPLAINED}). "
        f"keras_bridge.plugins.{name} computes it: pass plugins=True."
    )


def optimizer_to_keras(optimizer, dtype: str | None = None, plugins: bool = False):
    """The Keras optimizer that computes what the refnn ``optimizer`` computes.

    Build it under ``keras_bridge.floatx(dtype)`` (``to_keras`` does) so that its learning-rate
    variable has the model's dtype; ``dtype`` given here does that for you.

    Args:
        optimizer: a refnn optimizer.
        dtype: "float32"/"float64": create the Keras optimizer under that floatx.
        plugins: map Rprop/Quickprop to ``keras_bridge.plugins`` (stock Keras has neither).

    Raises:
        NotMappableError: naming the optimizer and the option that Keras cannot express.
    """
    if dtype is not None:
        with floatx(dtype):
            return optimizer_to_keras(optimizer, None, plugins)
    if isinstance(optimizer, str):
        optimizer = ropt.get(optimizer)
    spec = _spec_for(optimizer)
    config = dict(optimizer.get_config())
    config.pop("keras_float32_constants", None)  # Keras *is* what this flag imitates
    if spec.keras is None:
        return _plugin_optimizer(optimizer, spec, config, plugins)
    kwargs = {"name": config.pop("name")}
    for key in _BASE:
        kwargs[key] = config.pop(key)
    if isinstance(optimizer.learning_rate, rsched.LearningRateSchedule):
        kwargs["learning_rate"] = schedule_to_keras(optimizer.learning_rate)
    elif callable(optimizer.learning_rate):
        raise NotMappableError(
            f"{spec.refnn}: a callable learning rate cannot be mapped; use a refnn schedule "
            f"(ExponentialDecay, ...). Received: learning_rate={optimizer.learning_rate!r}"
        )
    for key in spec.shared:
        kwargs[key] = config.pop(key)
    textbook = {}
    for option, keras_value in spec.keras_conventions.items():
        value = config.pop(option, keras_value)
        if value != keras_value and _convert_convention(optimizer, option, value, kwargs, plugins):
            textbook[option] = value
    if config:
        option, value = next(iter(config.items()))
        raise NotMappableError(
            f"{spec.refnn}: option `{option}` has no Keras counterpart. Received: {option}={value!r}"
        )
    if spec.keras == "AdamW" and kwargs["weight_decay"] is None:
        raise NotMappableError("AdamW with weight_decay=None has no Keras counterpart (Keras requires a float).")
    for key in ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm"):
        if kwargs[key] is None:
            del kwargs[key]
    if textbook:
        from keras_bridge.plugins import textbook as ktextbook

        return getattr(ktextbook, spec.keras)(**kwargs, **textbook)
    return getattr(keras.optimizers, spec.keras)(**kwargs)


def _plugin_optimizer(optimizer, spec: OptimizerSpec, config: dict, plugins: bool):
    """Rprop or Quickprop as ``keras_bridge.plugins`` optimizers (Levenberg–Marquardt needs the
    whole model: ``to_keras`` makes a ``LevenbergMarquardtModel``)."""
    if spec.refnn == "LevenbergMarquardt" or not plugins:
        raise NotMappableError(
            f"Optimizer {spec.refnn} has no stock Keras counterpart. {PLUGINS_HINT}"
            + ("" if spec.refnn == "LevenbergMarquardt" else " Pass plugins=True to use it.")
        )
    from keras_bridge import plugins as kplugins

    if isinstance(config.get("learning_rate"), dict):
        config["learning_rate"] = schedule_to_keras(optimizer.learning_rate)
    return getattr(kplugins, spec.plugin)(**config)


# ---- Keras -> refnn -----------------------------------------------------------------------------
def optimizer_from_keras(optimizer, keras_float32_constants: bool = True):
    """The refnn twin of a Keras optimizer (a ``keras.optimizers.Optimizer`` or a name).

    In float64 the twin reproduces Keras's rounding of hyper-parameters through float32
    (``keras_float32_constants=True``, the default), so it follows Keras float64 to rounding
    level; pass ``False`` for a refnn optimizer with the exact constants of the same config.

    Raises:
        NotMappableError: a Keras optimizer or option with no refnn counterpart.
    """
    if isinstance(optimizer, str):
        optimizer = keras.optimizers.get(optimizer)
    cls_name = type(optimizer).__name__
    from keras_bridge import plugins as kplugins

    plugin_classes = {spec.plugin: spec for spec in SPECS.values() if spec.plugin}
    # the variable or schedule itself (the public `learning_rate` evaluates a schedule)
    lr = optimizer._learning_rate
    if callable(lr) and not isinstance(lr, keras.optimizers.schedules.LearningRateSchedule) \
            and not hasattr(lr, "dtype"):
        raise NotMappableError(f"Keras {cls_name}: a callable learning rate cannot be mapped. Received: {lr!r}")
    config = dict(optimizer.get_config())
    for option, inactive in _KERAS_ONLY.items():
        value = config.pop(option, inactive)
        if value != inactive:
            raise NotMappableError(
                f"Keras {cls_name}: option `{option}` has no refnn counterpart. Received: {option}={value!r}"
            )
    for option in _KERAS_IGNORED:
        config.pop(option, None)
    _refuse_excluded_weight_decay(optimizer, cls_name)
    if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
        config["learning_rate"] = schedule_from_keras(lr)
    elif np.dtype(lr.dtype) == np.float32:
        config["learning_rate"] = shortest_float32(config["learning_rate"])
    if cls_name in plugin_classes and isinstance(optimizer, getattr(kplugins, cls_name)):
        spec = plugin_classes[cls_name]
        return getattr(ropt, spec.refnn)(**config, keras_float32_constants=keras_float32_constants)
    spec = _BY_KERAS.get(cls_name)
    if spec is None or not hasattr(ropt, spec.refnn):
        raise NotMappableError(
            f"Keras optimizer {cls_name} has no refnn counterpart"
            + ("" if spec is None else f" yet (refnn.optimizers.{spec.refnn} is not available)") + "."
        )
    kwargs = {"name": config.pop("name"), "keras_float32_constants": keras_float32_constants}
    for key in (*_BASE, *spec.shared):
        kwargs[key] = config.pop(key)
    for option in spec.keras_conventions:  # a textbook plugin (keras_bridge.plugins.textbook) names its form
        if option in config:
            kwargs[option] = config.pop(option)
    if config:
        option, value = next(iter(config.items()))
        raise NotMappableError(
            f"Keras {cls_name}: option `{option}` has no refnn counterpart. Received: {option}={value!r}"
        )
    return getattr(ropt, spec.refnn)(**kwargs)


def _refuse_excluded_weight_decay(optimizer, cls_name: str) -> None:
    """``exclude_from_weight_decay(...)`` has no refnn counterpart: refnn decays every parameter
    that has a gradient. Refused rather than dropped (an AdamW bias decayed by mistake: 0.30 after
    5 epochs)."""
    variables = getattr(optimizer, "_exclude_from_weight_decay", None) or set()
    pattern = getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    if variables or pattern is not None:
        raise NotMappableError(
            f"Keras {cls_name}: exclude_from_weight_decay(...) has no refnn counterpart (refnn applies weight "
            f"decay to every parameter that has a gradient). Received: {len(variables)} excluded variable(s), "
            f"name pattern {None if pattern is None else pattern.pattern!r}"
        )


def keras_exact_optimizer(optimizer):
    """A copy of a refnn optimizer (its state included) with ``keras_float32_constants=True``:
    the constants Keras rounds through float32 are rounded the same way."""
    import copy

    twin = copy.deepcopy(optimizer)
    twin.keras_float32_constants = True
    return twin
