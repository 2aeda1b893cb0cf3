"""Lessons: a topic of the lecture worked in refnn and TensorFlow side by side.

``refnn-compare lesson NAME`` prints the lesson's tables and writes its page to
``reports/lessons/NAME/index.html`` (``--out DIR`` to choose). Each lesson has its numbers
(``measure``, asserted by the tests) and their rendering (``section``, see ``runner``); the
``backprop`` walk-through renders its own page (``backprop_page``). Every lesson is also a section
of the main report (``refnn-compare``), before the parity appendix (``REPORT_LESSONS``).

=============== ===============================================================================
lesson          what it shows
=============== ===============================================================================
activations     f and f′ of ReLU, sigmoid and tanh; the softmax Jacobian beside the diagonal
                shortcut f(1 − f); each loss and its gradient against the prediction
descent         batch size 1, 32 and the full batch: loss against epochs and against seconds
optimizers      SGD, momentum (both forms), RMSprop, Adam, Adagrad, Rprop on 2-D contour plots,
                and their loss curves on a bundled data set
initialization  zero initialisation stays symmetric; too large weights saturate tanh/sigmoid;
                Glorot vs He, layer by layer
overfitting     a large network on a small training set: L2, L1, dropout, early stopping, a
                smaller network — train/validation curves and the final table
stopping        stopping by epochs, by elapsed time, by validation; each run's stop reason
backprop        the dense layer's forward pass and its three backward steps on a 2×3 input: refnn's
                layer, refnn's computation graph and TensorFlow's GradientTape, number for number
=============== ===============================================================================

Where a lesson trains, refnn and the same network in Keras (through ``keras_bridge``) are drawn on
the same axes: refnn solid, Keras dotted. Exit status: 0 when the sides agree within the
tolerance, 1 when they do not, 2 for a usage error or a missing dependency.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from comparisons.lessons import runner

__all__ = ["LESSONS", "REPORT_LESSONS", "main"]

#: lesson → (module, one line of help); the order is the report's. ``backprop`` has its own
#: ``add_arguments``/``run``; the others follow ``runner``'s contract.
LESSONS = {
    "activations": ("comparisons.lessons.activations",
                    "f and f′ of ReLU/sigmoid/tanh, the softmax Jacobian, each loss and its gradient"),
    "descent": ("comparisons.lessons.descent",
                "gradient descent, mini-batch, stochastic: loss against epochs and against seconds"),
    "optimizers": ("comparisons.lessons.optimizers",
                   "SGD, momentum, RMSprop, Adam, Adagrad, Rprop: paths on contour plots, loss curves"),
    "initialization": ("comparisons.lessons.initialization",
                       "zero weights stay symmetric, large weights saturate, Glorot vs He by layer"),
    "overfitting": ("comparisons.lessons.overfitting",
                    "overfitting and its cures: L2, L1, dropout, early stopping, a smaller network"),
    "stopping": ("comparisons.lessons.stopping",
                 "stopping by epochs, by elapsed time, by validation: each run's stop reason"),
    "backprop": ("comparisons.lessons.backprop_page",
                 "the dense layer's forward pass and three backward steps: refnn, its graph, TensorFlow"),
}
#: the lessons of the main report, in its order: lesson → module with ``measure``/``section``
#: (``backprop``'s own page is ``backprop_page``; its report section ``backprop_section``)
REPORT_LESSONS = {"backprop": "comparisons.lessons.backprop_section",
                  **{name: module for name, (module, _) in LESSONS.items() if name != "backprop"}}


def _parser(selected: str | None) -> argparse.ArgumentParser:
    """The parser; only the ``selected`` lesson's module is imported (for its options)."""
    parser = argparse.ArgumentParser(prog="refnn-compare lesson", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="lesson", metavar="LESSON", required=True)
    for name, (module, help_text) in LESSONS.items():
        lesson = sub.add_parser(name, help=help_text, description=help_text)
        lesson.add_argument("--out", metavar="DIR", default=os.path.join("reports", "lessons", name),
                            help=f"where to write the page (default: reports/lessons/{name})")
        if name != selected:
            continue
        lesson_module = importlib.import_module(module)
        if hasattr(lesson_module, "run"):
            lesson_module.add_arguments(lesson)
        else:
            runner.add_common_arguments(lesson)
            if hasattr(lesson_module, "add_arguments"):
                lesson_module.add_arguments(lesson)
    return parser


def main(argv=None, stream=None) -> int:
    """Run one lesson; returns the exit status (see the module docstring)."""
    stream = sys.stdout if stream is None else stream
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        selected = next((a for a in argv if a in LESSONS), None)
        args = _parser(selected).parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    module = importlib.import_module(LESSONS[args.lesson][0])
    out_dir = os.path.abspath(args.out)
    try:
        if hasattr(module, "run"):
            return module.run(args, out_dir, stream)
        options = {k: v for k, v in vars(args).items() if k not in ("lesson", "out", "quick", "seed")}
        return runner.run(module, args, out_dir, stream, options, argv)
    except ModuleNotFoundError as exc:
        if exc.name not in ("tensorflow", "keras"):
            raise
        hint = " (or pass --no-tensorflow)" if args.lesson == "backprop" else ""
        sys.stderr.write(f"This lesson's Keras side needs TensorFlow: pip install -e \".[compare]\"{hint}\n")
        return 2
