"""Writing a list of arrays into live parameter arrays — what ``Layer.set_weights`` and the model's
``set_weights`` share."""

from __future__ import annotations

import numpy as np

from refnn.utils.validation import check_numeric_array

__all__ = ["write_weights"]


def write_weights(targets: dict[str, np.ndarray], weights, owner: str) -> None:
    """Write ``weights`` (a list in ``targets``' order) into the arrays of ``targets`` in place.

    ``targets`` maps each parameter's path (``"dense_0/kernel"``) to its live array; ``owner``
    says whose they are in the messages (``"the model"``, ``"layer 'dense_0'"``). The list, the
    count, every dtype (real numbers, converted to the target's dtype) and every shape are
    checked before anything is written: on a mismatch nothing changes. Non-finite values are
    accepted, as Keras accepts them: a diverged model's saved weights must load back.
    """
    if isinstance(weights, (np.ndarray, str, bytes)) or not hasattr(weights, "__iter__"):
        raise TypeError(f"`weights` must be a list of arrays. Received: weights of type {type(weights).__name__}")
    weights = list(weights)
    if len(weights) != len(targets):
        raise ValueError(f"`weights` must hold {len(targets)} arrays ({', '.join(targets)}) for {owner}. "
                         f"Received: {len(weights)} arrays")
    converted = []
    for (path, current), new in zip(targets.items(), weights):
        new = check_numeric_array(f"weights[{path!r}]", new, dtype=current.dtype)
        if new.shape != current.shape:
            raise ValueError(f"Shape mismatch for {path!r}: {owner} has {current.shape}. "
                             f"Received: weights[{path!r}].shape={new.shape}")
        converted.append(new)
    for current, new in zip(targets.values(), converted):
        current[...] = new
