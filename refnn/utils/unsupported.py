"""Clear errors for the Keras names refnn does not have.

A Keras script run with ``import refnn as keras`` reaches for names such as
``keras.layers.Conv2D``; Python's own error would be a bare ``AttributeError: module has no
attribute``. Each public namespace gets a module ``__getattr__`` from ``missing_name`` instead,
which says what refnn covers, and — for names Keras users often meet first — what to do.
"""

from __future__ import annotations

__all__ = ["missing_name"]


def missing_name(namespace: str, offered: str, advice: dict[str, str] | None = None):
    """A module ``__getattr__`` for ``namespace`` (e.g. ``"refnn.layers"``).

    Args:
        namespace: the module's public name, quoted in the message.
        offered: what the namespace does have, in words.
        advice: ``{name: what to do instead}`` for names that deserve a specific hint.
    """
    advice = dict(advice or {})

    def __getattr__(name: str):
        if name.startswith("__"):  # Python's own probes (__path__, __wrapped__, ...): plain and quiet
            raise AttributeError(f"module {namespace!r} has no attribute {name!r}")
        hint = advice.get(name, "")
        raise AttributeError(
            f"{namespace} has no `{name}`: refnn covers fully connected networks trained in NumPy, and "
            f"{namespace} offers {offered}." + (f" {hint}" if hint else
                                                f" For `{name}`, use Keras itself.")
        )

    return __getattr__


def keras_class(obj) -> type | None:
    """The first Keras class in ``obj``'s class hierarchy (found by module name: refnn never
    imports Keras), or ``None``."""
    for cls in type(obj).__mro__:
        module = getattr(cls, "__module__", "") or ""
        if module.split(".")[0] in ("keras", "tf_keras") or module.startswith("tensorflow."):
            return cls
    return None


def refuse_keras_object(argument: str, obj, namespace) -> None:
    """Raise a TypeError when ``obj`` is a Keras object (a ``keras.metrics.AUC()`` given to refnn's
    ``compile``), naming refnn's class of the same name in ``namespace`` when there is one; return
    quietly for anything else."""
    base = keras_class(obj)
    if base is None:
        return
    name = type(obj).__name__
    mine = getattr(namespace, name, None) if base is type(obj) else None
    advice = (f"use {namespace.__name__}.{name} with the same arguments (`import refnn as keras` gives it)"
              if mine is not None else
              f"{namespace.__name__} has no {name}" if base is type(obj) else
              f"write it as a refnn class instead of a subclass of {base.__module__}.{base.__name__}")
    raise TypeError(f"`{argument}` holds a Keras object, {name}, which refnn cannot run: {advice}. Received: {obj!r}")
