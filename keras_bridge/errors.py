"""The one error the bridge raises for things that have no counterpart on the other side."""

from __future__ import annotations

__all__ = ["NotMappableError"]

PLUGINS_HINT = (
    "Stock Keras has no such optimizer; keras_bridge.plugins provides Keras implementations "
    "(plugins.Rprop, plugins.Quickprop, plugins.LevenbergMarquardtModel)."
)


class NotMappableError(ValueError):
    """Raised when a layer, loss, optimizer or option cannot be expressed on the other side.

    The message names the layer (or object) and the option, echoes the value, and says what to
    use instead where something exists (e.g. ``keras_bridge.plugins`` for Rprop).
    """
