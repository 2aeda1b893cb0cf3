"""What every lesson shares: its ``Section`` timed, its own page, its tables on the terminal.

A lesson module (``comparisons/lessons/<name>.py``) has

* ``TITLE`` — the lesson's title;
* ``measure(quick=False, seed=0) -> dict`` — every number the lesson shows (JSON-serialisable,
  asserted by the tests); ``quick`` is the small size the tests and ``--quick`` use;
* ``section(measured) -> Section`` — the rendering, concepts first: a ``Formula``, a sentence of
  explanation, then the figures and tables (``part=LESSON``); its ``checks`` are the lesson's
  refnn-against-Keras agreements, which join the report's parity summary;
* optionally ``add_arguments(parser)`` for options of its own, passed to ``measure`` by name.

``lesson_section(module, quick, seed)`` is what the main report calls; ``run(...)`` is
``refnn-compare lesson NAME`` for such a module.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import sys
import time

from comparisons.report import LESSON, Report, Table, format_table, summary_line, write

__all__ = ["lesson_section", "run", "add_common_arguments"]


def lesson_section(module, quick: bool = False, seed: int = 0, **options):
    """``module.section(module.measure(...))``, its time recorded and its part set to ``LESSON``.

    NumPy's BLAS runs on one thread meanwhile: the lessons' matrices are small (at most a few
    hundred rows and columns), where a second BLAS thread mostly waits — on two shared cores a
    50×256 by 256×256 product took 15× longer with two threads than with one. TensorFlow's own
    thread pools are not affected.
    """
    start = time.perf_counter()
    with _one_blas_thread():
        section = module.section(module.measure(quick=quick, seed=seed, **options))
    section.part = LESSON
    section.seconds = time.perf_counter() - start
    return section


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # threadpoolctl comes with scikit-learn; without it, run as configured
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def add_common_arguments(parser) -> None:
    """``--quick`` and ``--seed``, for every lesson."""
    parser.add_argument("--quick", action="store_true", help="the small size the tests use (seconds)")
    parser.add_argument("--seed", type=_non_negative_int, default=0, help="seed of data and weights (default 0)")


def _non_negative_int(text: str) -> int:
    import argparse

    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"must be a non-negative integer. Received: {text!r}")
    return int(text)


def _text(section) -> str:
    out = [section.title, "=" * len(section.title)]
    for block in section.blocks:
        if isinstance(block, Table):
            out += ["", block.caption, format_table(block.headers, block.rows)] if block.caption else \
                ["", format_table(block.headers, block.rows)]
    return "\n".join(out)


def run(module, args, out_dir: str, stream, options: dict | None = None, argv: list | None = None) -> int:
    """Measure and render one lesson; write ``out_dir/index.html`` (self-contained) and print its
    tables (``argv``: the lesson's command line, for the page). Returns 0 when its refnn/Keras
    checks agree, 1 when one does not."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        sys.stderr.write(f"refnn-compare lesson: --out must be a folder; {out_dir} is a file\n")
        return 2
    section = lesson_section(module, quick=args.quick, seed=args.seed, **(options or {}))
    report = Report(section.title, [section], meta={
        "command": "refnn-compare lesson " + " ".join(sys.argv[2:] if argv is None else argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "time": f"{section.seconds:.1f} s",
    })
    paths = write(report, out_dir)
    line = summary_line(report)
    stream.write(_text(section) + ("\n\n" + line if line else "") + f"\n\nPage: {paths['html']}\n")
    return 0 if report.passed else 1
