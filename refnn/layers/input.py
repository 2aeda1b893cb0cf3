"""``Input``: Keras's way of declaring a model's input width at the head of its layer list."""

from __future__ import annotations

import numbers

from refnn.utils.validation import check_dtype, check_no_unknown_kwargs, check_positive_int

__all__ = ["Input", "InputLayer"]

#: Keras's other arguments, accepted at their defaults (None / False) and refused otherwise
_KERAS_ONLY = {"batch_shape", "sparse", "ragged", "tensor", "optional", "input_tensor"}


class Input:
    """The input of a ``Sequential``: ``Sequential([Input((d,)), Dense(...), ...])`` builds the
    model for ``d`` features at once, as ``keras.Input(shape=(d,))`` does in Keras.

    It holds no parameters and computes nothing; refnn's models take 2-D data ``(N, d)``, so
    ``shape`` has one entry. An image shape such as ``(28, 28)`` is refused with the reshape to
    use (refnn has no ``Flatten``).

    Args:
        shape: ``(d,)`` (or the integer ``d``).
        batch_size: accepted for Keras's signature; refnn's batch size is ``fit``'s.
        dtype: ``None``, ``"float32"`` or ``"float64"``; the model's dtype decides the arithmetic.
        name: accepted for Keras's signature.

    ``batch_size``, ``dtype`` and ``name`` are checked and kept (for ``repr`` readers and Keras
    parity) but change nothing.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, **kwargs):
        check_no_unknown_kwargs(type(self).__name__, {k: v for k, v in kwargs.items() if k not in _KERAS_ONLY})
        unsupported = {k: v for k, v in kwargs.items() if v not in (None, False)}
        if unsupported:
            raise TypeError(
                f"{type(self).__name__} does not support {', '.join(sorted(unsupported))} (refnn takes dense NumPy "
                f"arrays). Received: {unsupported!r}"
            )
        if isinstance(shape, numbers.Integral) and not isinstance(shape, bool):
            shape = (shape,)
        if not isinstance(shape, (tuple, list)) or len(shape) != 1:
            raise ValueError(
                f"`shape` must be (features,): refnn's models take 2-D inputs (N, features). Received: shape={shape!r}"
                + (". Flatten the data first, x.reshape(len(x), -1), and declare Input(shape=(n_features,))"
                   if isinstance(shape, (tuple, list)) and len(shape) > 1 else "")
            )
        self.shape = (check_positive_int("shape[0]", shape[0]),)
        self.batch_size = None if batch_size is None else check_positive_int("batch_size", batch_size)
        self.dtype = None if dtype is None else check_dtype("dtype", dtype).name
        self.name = name

    @property
    def features(self) -> int:
        """The input width ``d``."""
        return self.shape[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(shape={self.shape})"


class InputLayer(Input):
    """Keras's ``keras.layers.InputLayer(shape=(d,))``: the same declaration as ``Input``."""
