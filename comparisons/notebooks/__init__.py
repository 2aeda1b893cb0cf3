"""Each lesson as a Jupyter notebook: ``refnn-compare notebooks --out DIR``.

Every notebook is the code a lecturer runs in class, in the lesson's order: a title cell with the
lesson's formula, then for each step a Markdown explanation, a **refnn** cell, the **Keras** cell
doing the same (plain ``import keras`` code, or ``keras_bridge.to_keras(model)`` where the point is
the same initial weights — each notebook says which), and a matplotlib cell drawing both (refnn
solid, Keras dotted, on the same axes). Data come from scikit-learn's bundled sets (nothing is
downloaded); every random thing is seeded (refnn ``seed=``, ``keras.utils.set_random_seed``).

================ ================================================================================
notebook         what it runs
================ ================================================================================
backprop         one Dense layer on a 2×3 input: Z, Y, dZ, dW, dB by hand, by refnn's layer, by
                 refnn.graph.trace and by TensorFlow's GradientTape; then a few descent steps
activations      f and f′ of ReLU, sigmoid, tanh; the softmax Jacobian vs the f(1 − f) shortcut;
                 MSE and crossentropy with their gradients
descent          batch size 1, 32 and the full batch on digits, each with its own learning rate:
                 loss against epochs and seconds
optimizers       SGD, momentum (EMA vs Keras's velocity), RMSprop, Adam, Adagrad, Rprop on an
                 ill-conditioned quadratic: paths on its contours
initialization   zero weights stay symmetric, large weights saturate tanh, Glorot vs He by layer
overfitting      a large network on 100 digits: plain, L2, L1, dropout, early stopping, a smaller
                 network — training and validation curves
stopping         stopping by epochs, by refnn's TimeLimit, by EarlyStopping
================ ================================================================================

Size: the notebooks that train (descent, initialization, overfitting, stopping) read
``REFNN_NOTEBOOK_EPOCHS``, ``REFNN_NOTEBOOK_ROWS`` and (stopping) ``REFNN_NOTEBOOK_SECONDS`` in their
setup cell; unset, they run at the lesson's size. The tests set them small to run every notebook.

``--execute`` runs each notebook with ``nbclient`` in this Python's own kernel and saves it with
its outputs. Exit status: 0 when every notebook was written (and ran clean), 1 when one failed
to run, 2 for a usage error or a missing dependency (``pip install -e ".[compare]"``).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time

__all__ = ["NOTEBOOKS", "DEFAULT_OUT", "lesson_cells", "build", "write", "execute", "main"]

#: lesson → module defining its ``TITLE`` and ``CELLS``, in the lecture's order
NOTEBOOKS = {name: f"comparisons.notebooks.{name}" for name in (
    "backprop", "activations", "descent", "optimizers", "initialization", "overfitting", "stopping")}
DEFAULT_OUT = os.path.join("reports", "notebooks")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _lesson_module(name: str):
    if name not in NOTEBOOKS:
        raise ValueError(f"Unknown lesson {name!r}; one of: {', '.join(NOTEBOOKS)}")
    return importlib.import_module(NOTEBOOKS[name])


def lesson_cells(name: str) -> list[tuple[str, str]]:
    """The lesson's cells, ``[(kind, source), ...]`` with kind ``"markdown"`` or ``"code"``."""
    return list(_lesson_module(name).CELLS)


def build(name: str):
    """The lesson's notebook, an ``nbformat`` v4 ``NotebookNode``, validated."""
    import nbformat
    from nbformat import v4

    new = {"markdown": v4.new_markdown_cell, "code": v4.new_code_cell}
    notebook = v4.new_notebook(
        cells=[new[kind](source) for kind, source in lesson_cells(name)],
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"},
                  "title": _lesson_module(name).TITLE})
    nbformat.validate(notebook)
    return notebook


def _kernel_manager():
    """A kernel manager whose ``python3`` kernel is *this* Python (``sys.executable``).

    Jupyter's search path could resolve ``python3`` to another installation's kernel spec (one
    in ``~/.local/share/jupyter``, say) that has neither refnn nor TensorFlow; the notebooks need
    the environment that wrote them.
    """
    from ipykernel.kernelspec import RESOURCES, get_kernel_dict
    from jupyter_client import AsyncKernelManager
    from jupyter_client.kernelspec import KernelSpecManager

    class ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=RESOURCES, **get_kernel_dict())

    return AsyncKernelManager(kernel_name=KERNELSPEC["name"], kernel_spec_manager=ThisPython())


def execute(notebook, cwd: str, timeout: int = 120):
    """Run every cell of ``notebook`` (in place) in a fresh kernel of this Python, in ``cwd``.

    Raises ``nbclient.exceptions.CellExecutionError`` at the first cell that fails.
    Returns the notebook.
    """
    from nbclient import NotebookClient

    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds per cell, got {timeout}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # the kernel inherits it
    client = NotebookClient(notebook, km=_kernel_manager(), timeout=timeout,
                            resources={"metadata": {"path": cwd}})
    client.execute()
    return notebook


def write(out_dir: str, names=None, run: bool = False, timeout: int = 120, stream=None) -> list[str]:
    """Write ``out_dir/<lesson>.ipynb`` for each lesson in ``names`` (default: all); with
    ``run``, execute each first and save its outputs (stopping at the first notebook that fails,
    written as far as it ran). Prints one line per notebook to ``stream``.

    Returns:
        the paths written, in the order of ``names``.
    """
    import nbformat

    stream = sys.stdout if stream is None else stream
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for name in names or list(NOTEBOOKS):
        notebook = build(name)
        path = os.path.join(out_dir, f"{name}.ipynb")
        start = time.perf_counter()
        try:
            if run:
                execute(notebook, out_dir, timeout)
        finally:  # a notebook that failed is written too, with its outputs up to the failing cell
            nbformat.write(notebook, path)
        paths.append(path)
        n_code = sum(cell.cell_type == "code" for cell in notebook.cells)
        ran = f", ran in {time.perf_counter() - start:.1f} s" if run else ""
        stream.write(f"{path}  ({len(notebook.cells)} cells, {n_code} code{ran})\n")
        stream.flush()
    return paths


def _positive_seconds(text: str) -> int:
    """``--timeout``'s value: a whole number of seconds > 0 (0 leaves a cell no time at all, and
    nbclient reads −1 as no limit at all, which a run in class should not have)."""
    try:
        seconds = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of seconds, got {text!r}") from None
    if seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {seconds}")
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refnn-compare notebooks", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="Open them with `jupyter lab DIR` (pip install jupyterlab) "
                                            "from the environment refnn is installed in.")
    parser.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                        help=f"where to write the notebooks (default: {DEFAULT_OUT})")
    parser.add_argument("--lesson", metavar="NAME", action="append", dest="lessons",
                        help=f"only this lesson (repeatable): {', '.join(NOTEBOOKS)}")
    parser.add_argument("--execute", action="store_true",
                        help="run each notebook (nbclient, this Python's kernel) and save its outputs")
    parser.add_argument("--timeout", type=_positive_seconds, default=120, metavar="S",
                        help="with --execute: seconds allowed per cell (default 120)")
    return parser


def main(argv=None, stream=None) -> int:
    """``refnn-compare notebooks``; returns the exit status (see the module docstring)."""
    stream = sys.stdout if stream is None else stream
    parser = _parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    unknown = [name for name in args.lessons or [] if name not in NOTEBOOKS]
    if unknown:
        sys.stderr.write(f"refnn-compare notebooks: unknown lesson {unknown[0]!r}; "
                         f"choose from {', '.join(NOTEBOOKS)}\n")
        return 2
    try:
        write(os.path.abspath(args.out), args.lessons, args.execute, args.timeout, stream)
    except ModuleNotFoundError as exc:
        if exc.name not in ("nbformat", "nbclient", "jupyter_client", "ipykernel"):
            raise
        sys.stderr.write(f"refnn-compare notebooks needs {exc.name}, which is not installed: "
                         'pip install -e ".[compare]" (and ".[test]" for --execute)\n')
        return 2
    except Exception as exc:  # noqa: BLE001 — nbclient's CellExecutionError and kernel failures
        if type(exc).__module__.split(".")[0] not in ("nbclient", "jupyter_client"):
            raise
        sys.stderr.write(f"refnn-compare notebooks: a notebook failed to run:\n{exc}\n")
        return 1
    return 0
