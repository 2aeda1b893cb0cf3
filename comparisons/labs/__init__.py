"""A lab kit for students: write the pieces the lecture derives, then check them against finite
differences, refnn and TensorFlow/Keras.

The skeletons (``comparisons/labs/skeletons/``) are plain NumPy files with ``TODO``s where the
lecture's formulas go:

============== ======================================================================
file           classes and their TODOs
============== ======================================================================
dense.py       ``Dense(W, B)``: ``forward`` ``Y = X W + B``; ``backward`` ``dW = Xᵀ dY``,
               ``dB = Σ_n dY_n``, ``dX = dY Wᵀ``
activations.py ``Sigmoid``, ``Tanh``, ``Softmax``: ``backward(dA)`` → ``dZ`` (softmax with its
               full Jacobian ``∂A_j/∂Z_i = A_j(δ_ij − A_i)``)
losses.py      ``MeanSquaredError``, ``CategoricalCrossentropy`` (from logits): ``gradient`` with
               Keras's mean over the batch
optimizers.py  ``SGD`` with momentum as a moving average ``V ← μV + (1 − μ)g``, ``Adam``
               (Algorithm 1, with the bias correction)
============== ======================================================================

Recipe::

    python -m comparisons.labs copy dense.py      # the skeleton, into the current folder
    # fill in the TODOs
    refnn-compare check dense.py                  # or: check("dense.py") in Python

``comparisons.labs.check`` runs the check and explains the first thing that is wrong;
``comparisons/labs/solutions/`` holds reference solutions (which pass).
"""

from __future__ import annotations

import os
import shutil

__all__ = ["SKELETONS", "SOLUTIONS", "FILES", "skeleton_path", "copy_skeleton"]

SKELETONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "skeletons")
SOLUTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "solutions")
#: the lab files, in the lecture's order
FILES = ("dense.py", "activations.py", "losses.py", "optimizers.py")


def skeleton_path(name: str) -> str:
    """The path of the skeleton ``name`` (``"dense.py"`` or ``"dense"``)."""
    file = name if name.endswith(".py") else f"{name}.py"
    if file not in FILES:
        raise ValueError(f"`name` must be one of the lab's files {list(FILES)}. Received: name={name!r}")
    return os.path.join(SKELETONS, file)


def copy_skeleton(name: str, destination: str = ".") -> str:
    """Copy the skeleton ``name`` to ``destination`` (a folder, or a file name) and return the new
    file's path. An existing file is never overwritten (your work stays)."""
    source = skeleton_path(name)
    target = os.path.join(destination, os.path.basename(source)) if os.path.isdir(destination) else destination
    if os.path.exists(target):
        raise FileExistsError(f"`destination` already holds a file; remove it or choose another name. "
                              f"Received: destination={destination!r} ({target} exists)")
    shutil.copyfile(source, target)
    return target
