"""Lessons: a topic of the lecture worked in refnn and TensorFlow side by side.

``refnn-compare lesson NAME`` prints the lesson's tables and writes its page to
``reports/lessons/NAME/index.html`` (``--out DIR`` to choose). Each lesson is a module pair: the
numbers (``measure``, asserted by the tests) and their rendering (``add_arguments``, ``run``).

========= ===================================================================================
lesson    what it shows
========= ===================================================================================
backprop  the dense layer's forward pass and its three backward steps on a 2×3 input: refnn's
          layer, refnn's computation graph and TensorFlow's GradientTape, number for number
========= ===================================================================================

Exit status: 0 when the three sides agree within the tolerance, 1 when they do not, 2 for a usage
error or a missing dependency.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

__all__ = ["LESSONS", "main"]

#: lesson → (module with add_arguments/run, one line of help)
LESSONS = {
    "backprop": ("comparisons.lessons.backprop_page",
                 "the dense layer's forward pass and three backward steps: refnn, its graph, TensorFlow"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="refnn-compare lesson", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="lesson", metavar="LESSON", required=True)
    for name, (module, help_text) in LESSONS.items():
        lesson = sub.add_parser(name, help=help_text, description=help_text)
        lesson.add_argument("--out", metavar="DIR", default=os.path.join("reports", "lessons", name),
                            help=f"where to write the page (default: reports/lessons/{name})")
        importlib.import_module(module).add_arguments(lesson)
    return parser


def main(argv=None, stream=None) -> int:
    """Run one lesson; returns the exit status (see the module docstring)."""
    stream = sys.stdout if stream is None else stream
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error 2
        return int(exc.code or 0)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    module = importlib.import_module(LESSONS[args.lesson][0])
    try:
        return module.run(args, os.path.abspath(args.out), stream)
    except ModuleNotFoundError as exc:
        if exc.name not in ("tensorflow", "keras"):
            raise
        sys.stderr.write("This lesson's TensorFlow column needs TensorFlow: pip install -e \".[compare]\" "
                         "(or pass --no-tensorflow)\n")
        return 2
