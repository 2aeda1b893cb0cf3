"""The optimizer pipeline shared by every optimizer.

``apply(params, grads, loss=None)`` runs, in Keras's order (``BaseOptimizer.apply``):

1. gradient clipping — at most one of
   ``clipnorm`` (per tensor: ``g ← g·c / max(‖g‖₂, c)``),
   ``global_clipnorm`` (all tensors: ``g ← g·c·min(1/‖G‖₂, 1/c)``; a non-finite ``‖G‖₂`` gives NaN),
   ``clipvalue`` (``g ← clip(g, −c, c)``);
2. decoupled weight decay, if ``weight_decay`` is set: ``W ← W − W·wd·lr`` for every parameter
   that has a gradient, *before* the step (this is not an L2 penalty: adaptive methods do not
   rescale it);
3. the algorithm's rule, ``update_step`` per parameter, with the current learning rate
   ``lr = schedule(iterations)`` (the first update uses ``schedule(0)``);
4. ``iterations += 1``.

State is keyed by the parameter's path (``"dense_0/kernel"``), so one optimizer serves any number
of layers without mixing their state. When the parameters and gradients come packed as views of
one flat vector each (a ``Sequential`` model's, see ``refnn.utils.packing.PackedArrays``), an
element-wise rule runs on the flat vectors, one cache-sized block at a time (``update_step``
receives a ``PackedBlock`` as its path) — a few NumPy calls per operation for the whole model —
and each path's slots are views of flat slot vectors (``refnn.utils.packing.PackedState``).
Rprop, whose ``_update`` also weighs the loss, runs on the whole flat vectors at once.
Parameters are updated in place, in their own dtype (a float32 parameter stays float32; gradients
are cast to it, as Keras casts them to the variable's dtype).

Keras's float32 constants
-------------------------
In float64 mode Keras still rounds some hyper-parameters through float32, because a Python float
that goes through ``ops.cast`` becomes a float32 tensor first (``docs/keras-numerics.md``): SGD's
``momentum``, the β's inside Adam/Adamax/Nadam's bias-correction powers, the weight-decay factor,
Adagrad's initial accumulator, and every learning-rate *schedule* (computed in float32).
``keras_float32_constants=True`` makes a refnn optimizer do exactly the same, and nothing else:
each optimizer's docstring lists the constants it rounds. It is off by default (refnn uses the
exact values); the bridge switches it on when it builds a twin of a Keras optimizer, and
``refnn.config.set_keras_float32_constants(True)`` for every optimizer created afterwards. In float32
mode it only changes how a schedule is evaluated (in float32, as Keras does).
"""

from __future__ import annotations

import copy

import numpy as np

from refnn import config
from refnn.optimizers import conventions, schedules
from refnn.utils.packing import PackedArrays, PackedBlock, PackedState
from refnn.utils.validation import check_bool, check_float, check_no_unknown_kwargs

#: the key of the packed (whole-model) state in ``Optimizer.state``
PACKED = PackedState.KEY
#: the key of the scratch arrays that the blocks of a packed update share
_BLOCKS = "<packed blocks>"

__all__ = ["Optimizer", "ModelOptimizer", "PACKED"]


class Optimizer:
    """Base class. An algorithm implements ``build_state`` (optional), ``update_step`` and
    ``get_config``.

    Args:
        learning_rate: a positive float, a ``schedules.LearningRateSchedule`` (called with the
            step, ``iterations``) or a callable with no arguments (Keras calls plain callables
            without the step).
        weight_decay: decoupled weight decay factor ``wd`` (``W ← W − W·wd·lr``), or ``None``.
        clipnorm, clipvalue, global_clipnorm: gradient clipping (at most one).
        keras_float32_constants: round the constants Keras rounds through float32 (see the
            module docstring); for exact twins of Keras float64 runs. ``None``:
            ``refnn.config.keras_float32_constants()`` (``False`` unless set).
        name: a name for ``repr`` and configs.

    Attributes:
        iterations: the number of updates applied so far (Keras's ``iterations``).
        state: ``{path: {slot name: ndarray}}``, created on the first ``apply`` (or ``build``).
    """

    name = "optimizer"
    #: attributes besides the slots and ``iterations`` that a rule carries from one step to the
    #: next (saved with the model, see ``get_state``)
    carried_attributes: tuple = ()
    #: Rprop, Quickprop and Levenberg–Marquardt need the gradient of the whole training set
    requires_full_batch = False
    #: the rule treats every element alone, so it may run on the packed vector of all parameters,
    #: block by block (see ``apply``); a rule with per-tensor quantities sets this to False
    elementwise = True
    #: ``_per_step``'s one cached value and its key (class defaults: also for pickled optimizers)
    _per_step_key = None
    _per_step_value = None

    def __init__(
        self,
        learning_rate=0.01,
        *,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        keras_float32_constants: bool | None = None,
        name: str | None = None,
        **kwargs,
    ):
        check_no_unknown_kwargs(type(self).__name__, kwargs)
        if callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = check_float("learning_rate", learning_rate, low=0.0, low_inclusive=False)
        self.weight_decay = (
            None if weight_decay is None else check_float("weight_decay", weight_decay, low=0.0)
        )
        clips = {"clipnorm": clipnorm, "clipvalue": clipvalue, "global_clipnorm": global_clipnorm}
        given = {k: v for k, v in clips.items() if v is not None}
        if len(given) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: {', '.join(f'{k}={v!r}' for k, v in given.items())}"
            )
        for key, value in given.items():
            check_float(key, value, low=0.0, low_inclusive=False)
        self.clipnorm = None if clipnorm is None else float(clipnorm)
        self.clipvalue = None if clipvalue is None else float(clipvalue)
        self.global_clipnorm = None if global_clipnorm is None else float(global_clipnorm)
        if keras_float32_constants is None:
            keras_float32_constants = config.keras_float32_constants()
        self.keras_float32_constants = check_bool("keras_float32_constants", keras_float32_constants)
        if name is not None:
            self.name = name
        self.iterations = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}
        # scratch arrays per path, reused every step (not state: never read across steps)
        self._scratch_arrays: dict[str, dict[str, np.ndarray]] = {}
        self._packed = PackedState()
        self._model = None  # the model this optimizer serves (bound by its compile)

    @property
    def learning_rate(self):
        """What the optimizer was given: a float, a ``LearningRateSchedule`` or a callable (the rate of
        the next update is ``current_learning_rate()``; Keras's getter returns that value instead).

        Assignable between steps (``ReduceLROnPlateau``, ``LearningRateScheduler``): a schedule or a
        callable replaces the current one; a number ``>= 0`` replaces a float, and over a schedule is
        refused (Keras's rule: a schedule-driven learning rate is not settable). 0 is accepted here —
        ``ReduceLROnPlateau(factor=0)`` reaches it in Keras too — while the constructor asks for > 0.
        """
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate) -> None:
        if callable(learning_rate):  # schedules are callables
            self._learning_rate = learning_rate
            return
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                "constructor argument, hence its learning rate is not settable. If you need the learning rate "
                "to be settable, instantiate the optimizer with a float `learning_rate` argument. "
                f"Received: learning_rate={learning_rate!r} over {self._learning_rate!r}"
            )
        self._learning_rate = check_float("learning_rate", learning_rate, low=0.0)

    # ---- the pipeline ---------------------------------------------------------------------------
    def apply(self, params: dict, grads: dict, loss: float | None = None) -> None:
        """Update ``params`` in place from ``grads`` (both ``{path: ndarray}``).

        Args:
            params: the parameters (float ndarrays), updated in place.
            grads: their gradients; a path missing here is left untouched, not even decayed
                (Keras drops ``None`` gradients before clipping and decay).
            loss: the loss at ``params`` before the update; used by iRprop+ only.
        """
        if not grads:  # Keras: an empty list of gradients is a no-op (the counter stays)
            return
        params, grads = self._arrange(params, grads)
        grads = self._clip(grads)
        lr = self.current_learning_rate()
        if self.weight_decay is not None:
            self._apply_weight_decay(params, grads, lr)
        self._update(params, grads, lr, loss)
        self.iterations += 1

    def _arrange(self, params: dict, grads: dict) -> tuple[dict, dict]:
        """The parameters and gradients the rule runs on, with their state built.

        A model's packed parameters and gradients run as one flat vector each (``{PACKED: flat}``,
        updated block by block: the same arithmetic element by element)
        when the whole pipeline is element-wise; anything else runs per path, gradients checked
        and cast to their parameters' dtypes.
        """
        if self._packable(params, grads) and self._packed.ready(self, params):
            return {PACKED: params.flat}, {PACKED: grads.flat}
        grads = _checked_gradients(params, grads)
        self.build({path: params[path] for path in grads})
        return params, grads

    def _packable(self, params: dict, grads: dict) -> bool:
        """Packed alike (a model's parameters and gradients), and no per-tensor clipping norm."""
        return (isinstance(params, PackedArrays) and isinstance(grads, PackedArrays)
                and self.elementwise and self.clipnorm is None and self.global_clipnorm is None
                and grads.layout == params.layout and grads.flat.dtype == params.flat.dtype
                and params.flat.dtype.kind == "f")

    def __deepcopy__(self, memo):
        # deepcopy turns the per-path views of the packed state into separate arrays (same
        # values): drop the flat copies; the next packed ``apply`` packs the per-path states again.
        clone = type(self).__new__(type(self))
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key != "_packed":  # its block views would be copied as arrays of their own
                setattr(clone, key, copy.deepcopy(value, memo))
        clone._packed = PackedState()
        clone._packed.forget(clone.state)
        clone._scratch_arrays = {}
        clone._model = None  # a copy is bound again by the model that compiles (or copies) it
        return clone

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_model"] = None  # a pickled model binds its optimizer again when it is unpickled
        state["_scratch_arrays"] = {}
        state["_packed"] = PackedState()  # packed again on the next step (its views would pickle as copies)
        return state

    def __setstate__(self, state: dict) -> None:
        # unpickling turns the per-path views of the packed state into arrays of their own (same
        # values): drop the flat copies, as deepcopy does
        if "learning_rate" in state:  # pickled before ``learning_rate`` became a property
            state["_learning_rate"] = state.pop("learning_rate")
        self.__dict__.update(state)
        self._packed.forget(self.state)

    def build(self, params: dict) -> None:
        """Create the state of every path not seen before (``apply`` does this on its own; call it
        to set the state by hand before the first step).

        Raises:
            ValueError: a path whose state was built for a parameter of another shape.
        """
        for path, param in params.items():
            if path not in self.state:
                self.state[path] = self.build_state(path, param)
                continue
            shapes = {np.shape(slot) for slot in self.state[path].values()}
            if shapes and shapes != {param.shape}:
                raise ValueError(
                    f"This optimizer holds state for {path!r} with shape {shapes.pop()}, but received a "
                    f"parameter of shape {param.shape} at that path. An optimizer serves one model: give "
                    "each model its own (e.g. `type(opt).from_config(opt.get_config())`)."
                )

    def _apply_weight_decay(self, params: dict, grads: dict, lr: float) -> None:
        for path in grads:
            p = params[path]
            dt = p.dtype.type
            decay = self._scratch(path, p, "decay")
            # Keras: W ← W − (W·wd)·lr, wd cast like a Keras constant
            np.multiply(p, self._keras_cast(self.weight_decay, dt), out=decay)
            decay *= dt(lr)
            p -= decay

    def _update(self, params: dict, grads: dict, lr: float, loss: float | None) -> None:
        """Apply the rule to each parameter — to the packed vectors one cache-sized block at a time
        (``PackedState.blocks``: the same numbers, element by element, in less time). Full-batch
        methods that use the loss override this."""
        for path, grad in grads.items():
            if path != PACKED:
                self.update_step(path, params[path], grad, lr)
                continue
            param = params[path]
            for block in self._packed.blocks:
                self.update_step(block, param[block.start:block.stop], grad[block.start:block.stop], lr)

    def build_state(self, path: str, param: np.ndarray) -> dict[str, np.ndarray]:
        """Create this parameter's state (slots); called once per path, on first sight."""
        return {}

    def get_state(self) -> tuple[dict, dict]:
        """Everything the optimizer carries from one step to the next, for saving:
        ``({"iterations": n, attribute: value, ...}, {"<path>/<slot>": array})`` — JSON-ready
        scalars (a NumPy scalar as ``{"dtype", "value"}``) and copies of the slots."""
        scalars = {"iterations": self.iterations}
        for name in self.carried_attributes:
            value = getattr(self, name)
            is_numpy = isinstance(value, np.generic)
            scalars[name] = {"dtype": value.dtype.name, "value": value.item()} if is_numpy else value
        arrays = {f"{path}/{slot}": np.array(array) for path, slots in self.state.items() if path != PACKED
                  for slot, array in slots.items()}
        return scalars, arrays

    def set_state(self, scalars: dict, arrays: dict) -> None:
        """Restore what ``get_state`` returned: the next step continues exactly where the saved
        optimizer stopped."""
        self.iterations = int(scalars["iterations"])
        for name in self.carried_attributes:
            value = scalars.get(name)
            setattr(self, name, np.dtype(value["dtype"]).type(value["value"]) if isinstance(value, dict) else value)
        self.state = {}
        for key, array in arrays.items():
            path, _, slot = key.rpartition("/")
            self.state.setdefault(path, {})[slot] = np.array(array)
        self._packed.forget(self.state)
        self._scratch_arrays = {}

    def check_loss(self, loss) -> None:
        """Refuse, at ``compile``, a loss this method cannot minimise (every loss is fine here)."""

    def update_step(self, path, param: np.ndarray, grad: np.ndarray, lr: float) -> None:
        """Update ``param`` in place. ``self._slots(path)`` holds its slots; ``path`` is a parameter's
        path, or a ``PackedBlock`` of the packed vectors."""
        raise NotImplementedError

    def current_learning_rate(self) -> float:
        """The learning rate of the next update: ``schedule(iterations)``, ``callable()`` or the
        constant. With ``keras_float32_constants`` a schedule is evaluated in float32 (Keras)."""
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            dtype = np.float32 if self.keras_float32_constants else np.float64
            return float(lr(self.iterations, dtype=dtype))
        if callable(lr):
            return float(lr())
        return lr

    # ---- helpers for the rules ------------------------------------------------------------------
    def _keras_value(self, value: float) -> float:
        """``value`` as Keras's ``ops.cast(value, dtype)`` sees it: rounded through float32 when
        ``keras_float32_constants`` is set, else exact."""
        return float(np.float32(value)) if self.keras_float32_constants else value

    def _keras_cast(self, value: float, dt):
        """``dt(value)``, rounded through float32 first like ``_keras_value``."""
        return dt(self._keras_value(value))

    def _per_step(self, compute, *inputs):
        """``compute(*inputs)``, computed once per step for the same inputs and reused: a packed
        update calls ``update_step`` once per block, an unpacked one once per tensor, and a rule's
        scalars (Adam's bias corrections) are the same for all of them. ``inputs`` must hold
        everything ``compute`` reads besides ``iterations`` (hyper-parameters included, so that
        one changed between steps is seen)."""
        key = (self.iterations, compute.__name__, *inputs)
        if self._per_step_key != key:
            self._per_step_key, self._per_step_value = key, compute(*inputs)
        return self._per_step_value

    def _slots(self, path) -> dict[str, np.ndarray]:
        """The slots ``update_step`` updates: ``self.state[path]``, or the views of the packed slot
        vectors for a ``PackedBlock``."""
        return self._packed.block_slots(path) if isinstance(path, PackedBlock) else self.state[path]

    def _scratch(self, path, param: np.ndarray, name: str) -> np.ndarray:
        """A scratch array shaped like ``param``, kept between steps so that no step allocates
        (never read across steps: not state); for a ``PackedBlock``, a view of one array that
        every block of the packed update shares.

        A rule keeps few of them: a quantity that is born after another one is spent takes that
        one's array, and is named where it is born (``step = np.multiply(m, α, out=work)``). Every
        extra parameter-sized array costs cache traffic — one more in Adam's step measured +10 %
        on the benchmark's W2 workload.
        """
        shape = param.shape
        if isinstance(path, PackedBlock):  # the blocks share one array, as long as the first block
            first = self._packed.blocks[0]
            path, shape = _BLOCKS, (first.stop - first.start,)
        arrays = self._scratch_arrays.setdefault(path, {})
        array = arrays.get(name)
        if array is None or array.shape != shape or array.dtype != param.dtype:
            array = arrays[name] = np.empty(shape, param.dtype)
        return array[:param.size] if array.shape != param.shape else array

    # ---- clipping -------------------------------------------------------------------------------
    def _clip(self, grads: dict) -> dict:
        if self.clipnorm is not None:
            return {path: self._clip_by_norm(path, g) for path, g in grads.items()}
        if self.global_clipnorm is not None and grads:
            dt = next(iter(grads.values())).dtype.type
            squares = np.array([np.vdot(g, g) for g in grads.values()], dtype=dt)
            norm = np.sqrt(np.sum(squares))
            c = dt(self.global_clipnorm)
            with np.errstate(divide="ignore", invalid="ignore"):
                # Keras: c·min(1/n, 1/c), plus (n − n) so that an inf/NaN norm gives NaN
                scale = c * np.minimum(dt(1.0) / norm, dt(1.0 / self.global_clipnorm)) + (norm - norm)
            return {path: self._into(path, g, "clipped", np.multiply, scale) for path, g in grads.items()}
        if self.clipvalue is not None:
            c = self.clipvalue
            return {path: self._into(path, g, "clipped", np.clip, -c, c) for path, g in grads.items()}
        return grads

    def _clip_by_norm(self, path: str, g: np.ndarray) -> np.ndarray:
        # tf.clip_by_norm: (g·c) / max(‖g‖₂, c)
        dt = g.dtype.type
        c = dt(self.clipnorm)
        out = self._into(path, g, "clipped", np.multiply, c)
        out /= np.maximum(np.sqrt(dt(np.vdot(g, g))), c)
        return out

    def _into(self, path: str, g: np.ndarray, name: str, ufunc, *args) -> np.ndarray:
        return ufunc(g, *args, out=self._scratch(path, g, name))

    # ---- configuration --------------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self.learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {
            "name": self.name,
            "learning_rate": lr,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "clipvalue": self.clipvalue,
            "global_clipnorm": self.global_clipnorm,
            "keras_float32_constants": self.keras_float32_constants,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Optimizer":
        config = conventions.upgrade_config(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self) -> str:
        base = Optimizer.get_config(self)
        args = ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()
            if k != "name" and (k not in base or k == "learning_rate" or (v is not None and v is not False))
        )
        return f"{type(self).__name__}({args})"


def _checked_gradients(params: dict, grads: dict) -> dict:
    """Refuse unknown paths, non-float parameters and shape mismatches; return the gradients cast
    to their parameters' dtypes (Keras casts them to the variable's dtype)."""
    unknown = [path for path in grads if path not in params]
    if unknown:
        raise ValueError(
            f"`grads` has paths that are not in `params`: {unknown}. Received params paths: {list(params)}"
        )
    cast = {}
    for path, grad in grads.items():
        param = params[path]
        if not (isinstance(param, np.ndarray) and np.issubdtype(param.dtype, np.floating)):
            raise TypeError(
                f"Parameters must be float NumPy arrays (they are updated in place). "
                f"Received: params[{path!r}] of type {type(param).__name__}"
            )
        if np.shape(grad) != param.shape:
            raise ValueError(
                f"Gradient shape does not match its parameter at {path!r}. Received: "
                f"grad.shape={np.shape(grad)}, param.shape={param.shape}"
            )
        cast[path] = np.asarray(grad, dtype=param.dtype)
    return cast


class ModelOptimizer(Optimizer):
    """An optimizer that steps the whole model at once, because it needs more than a gradient
    (Levenberg–Marquardt solves with the Jacobian of every residual).

    The protocol: ``Sequential`` trains a batch with ``model_step(model, x, y)`` — which returns
    the batch loss and outputs at the weights *before* the step, as a gradient step's
    ``train_step`` does — instead of computing a gradient and calling ``apply``; ``check_loss``
    refuses, at ``compile``, a loss the method cannot minimise.
    """

    def apply(self, params, grads, loss=None):
        raise TypeError(
            f"{type(self).__name__} needs the whole model, not a gradient: train with model.fit(...) or "
            "model.train_step(...), which call optimizer.model_step(model, x, y)."
        )

    def model_step(self, model, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """One step on the batch ``(x, y)``; returns the loss (penalties included) and the
        outputs, both at the weights before the step."""
        raise NotImplementedError
