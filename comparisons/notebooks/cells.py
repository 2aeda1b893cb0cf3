"""The cells of a lesson notebook: Markdown text and code, as ``(kind, source)`` pairs.

A lesson's module (``comparisons.notebooks.<lesson>``) lists its cells with ``md`` and ``code``
and has a ``TITLE``; ``comparisons.notebooks.build`` turns them into an nbformat v4 notebook.
The code is what a lecturer types in class: refnn first, then Keras, then a plot of both.
"""

from __future__ import annotations

import textwrap

__all__ = ["md", "code", "setup_code"]


def md(text: str) -> tuple[str, str]:
    """A Markdown cell (the text is dedented, its surrounding blank lines dropped)."""
    return "markdown", textwrap.dedent(text).strip("\n")


def code(text: str) -> tuple[str, str]:
    """A code cell (the text is dedented, its surrounding blank lines dropped)."""
    return "code", textwrap.dedent(text).strip("\n")


def setup_code(extra: str = "") -> tuple[str, str]:
    """The first code cell of every notebook: quiet TensorFlow, NumPy, matplotlib and refnn.

    ``extra`` is appended (the lesson's data, for instance).
    """
    lines = textwrap.dedent("""
        import os
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")   # quiet TensorFlow's start-up logs (before it loads)
        import time

        import numpy as np
        import matplotlib.pyplot as plt

        import refnn
        from refnn import layers, optimizers, callbacks

        np.set_printoptions(precision=4, suppress=True)
    """).strip("\n")
    extra = textwrap.dedent(extra).strip("\n")
    return "code", lines + ("\n\n" + extra if extra else "")
