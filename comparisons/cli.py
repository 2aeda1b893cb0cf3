"""``refnn-compare``: refnn and Keras side by side — a report with tables, plots and a summary.

With no command it runs every lesson (``comparisons.lessons``: concepts first, refnn and Keras on
the same axes) and then every study, the parity evidence, on scikit-learn's bundled data (nothing
is downloaded), and writes ``reports/latest/index.html`` (self-contained: figures embedded),
``report.md``, ``report.json`` and the SVG figures:

============ =================================================================================
command      study
============ =================================================================================
gradients    per-layer gradients refnn vs Keras, float64 and float32 (digits MLP and others)
optimizers   100-step trajectories of every Keras-exact optimizer (and the Rprop/Quickprop
             plugins)
conventions  the textbook formulas vs Keras: momentum, RMSprop, Adam ε, MSE, BCE, softmax, L2
training     fit curves refnn vs Keras (digits, diabetes): loss, val_loss, final weights
classics     Rprop, Quickprop, Levenberg–Marquardt on their published problems (refnn alone)
bench        time per epoch and peak memory vs Keras, scikit-learn, PyTorch
             (``comparisons.bench``; its own options, e.g. ``--profile``)
validate     a Keras user's model and data: ``refnn-compare validate model.keras --data d.npz``
             (``comparisons.validate``; its own options and report)
lesson       a worked lesson, e.g. ``refnn-compare lesson backprop`` (``comparisons.lessons``)
check        a student's lab file against refnn, finite differences and TensorFlow:
             ``refnn-compare check my_dense.py`` (``comparisons.labs``)
notebooks    each lesson as a Jupyter notebook: ``refnn-compare notebooks --out DIR``
             (``comparisons.notebooks``)
============ =================================================================================

Options (every command but ``bench``, ``validate``, ``lesson``, ``check`` and ``notebooks``, which have
their own):
``--out DIR`` (default ``reports/latest``), ``--quick`` (fewer seeds, epochs and configurations: a
smoke run), ``--seed N``.

Exit status: 0 when every comparison is within the tolerance of the contract, 1 when one is not
(the summary names it), 2 for a usage error or a missing dependency (TensorFlow, scikit-learn,
matplotlib: ``pip install -e ".[compare]"``).
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys
import time

__all__ = ["STUDIES", "DEFAULT_OUT", "build_parser", "run", "main"]

#: command → (module, one line of help); the order is the report's
STUDIES = {
    "gradients": ("comparisons.gradients", "per-layer gradients refnn vs Keras, float64 and float32"),
    "optimizers": ("comparisons.optimizers", "100-step optimizer trajectories refnn vs Keras"),
    "conventions": ("comparisons.conventions", "textbook formulas vs Keras, measured live"),
    "training": ("comparisons.training", "fit curves refnn vs Keras: loss, val_loss, final weights"),
    "classics": ("comparisons.classics", "Rprop, Quickprop, Levenberg–Marquardt on published problems"),
}
DEFAULT_OUT = os.path.join("reports", "latest")
#: modules the suite needs beyond NumPy → the package that provides them
_EXTRAS = {"tensorflow": "TensorFlow", "keras": "Keras", "sklearn": "scikit-learn", "matplotlib": "matplotlib"}


def _add_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    # a subcommand's options must not reset values given before the subcommand: SUPPRESS there
    d = (lambda v: v) if defaults else (lambda v: argparse.SUPPRESS)  # noqa: E731
    parser.add_argument("--out", metavar="DIR", default=d(DEFAULT_OUT),
                        help=f"where to write the report (default: {DEFAULT_OUT})")
    parser.add_argument("--quick", action="store_true", default=d(False),
                        help="fewer seeds, epochs and configurations: a quick smoke run")
    parser.add_argument("--seed", type=int, default=d(0), help="seed of the data splits and weights (default 0)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="refnn-compare", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="refnn and Keras side by side: live comparisons, the textbook-vs-Keras "
                    "conventions, training curves and classic algorithms, written as an HTML/Markdown "
                    "report with plots. With no command, every study runs.",
        epilog="`refnn-compare bench --help` lists the benchmark's own options.")
    _add_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in STUDIES.items():
        _add_options(sub.add_parser(name, help=help_text, description=help_text), defaults=False)
    sub.add_parser("bench", help="time per epoch and peak memory against Keras, scikit-learn, PyTorch "
                                 "(options: refnn-compare bench --help)", add_help=False)
    sub.add_parser("validate", help="your Keras model (.keras) and data, refnn vs Keras "
                                    "(options: refnn-compare validate --help)", add_help=False)
    sub.add_parser("lesson", help="a worked lesson, refnn, the computation graph and TensorFlow side by side "
                                  "(options: refnn-compare lesson --help)", add_help=False)
    sub.add_parser("check", help="check a student's lab file against refnn, finite differences and TensorFlow "
                                 "(options: refnn-compare check --help)", add_help=False)
    sub.add_parser("notebooks", help="write each lesson as a Jupyter notebook, refnn cell then Keras cell "
                                     "(options: refnn-compare notebooks --help)", add_help=False)
    return parser


#: subcommands with their own parser: command → module whose ``main(argv)`` runs it
_OWN_PARSERS = {
    "bench": "comparisons.bench",
    "validate": "comparisons.validate",
    "lesson": "comparisons.lessons",
    "check": "comparisons.labs.check",
    "notebooks": "comparisons.notebooks",
}


def _versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = [f"Python {platform.python_version()}"]
    for package in ("refnn", "numpy", "tensorflow", "keras", "scikit-learn", "matplotlib"):
        try:
            out.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def run(argv=None, stream=None):
    """Parse ``argv``, run the studies, write the report and print the summary to ``stream``
    (default stdout; progress goes to stderr).

    Returns:
        the ``comparisons.report.Report``.
    """
    args = build_parser().parse_args(argv)
    stream = sys.stdout if stream is None else stream
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from comparisons import report as rep

    from comparisons.lessons import REPORT_LESSONS, runner

    names = [args.command] if args.command else list(STUDIES)
    lessons = [] if args.command else list(REPORT_LESSONS)
    out_dir = os.path.abspath(args.out)
    stream.write(f"refnn-compare: {', '.join(lessons + names)}{' (quick)' if args.quick else ''} → {out_dir}\n")
    stream.flush()
    progress = rep.Progress(sys.stderr)
    start = time.perf_counter()
    sections = []
    for name in lessons:
        progress.start(name, 1)
        sections.append(runner.lesson_section(importlib.import_module(REPORT_LESSONS[name]), args.quick, args.seed))
        progress.finish()
    for name in names:
        module = importlib.import_module(STUDIES[name][0])
        sections.append(module.run(quick=args.quick, seed=args.seed, progress=progress))
    elapsed = time.perf_counter() - start
    title = "refnn and Keras side by side: lessons, and the parity evidence" if lessons else \
        "refnn vs Keras: side-by-side comparisons"
    report = rep.Report(title, sections, meta={
        "command": "refnn-compare " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if args.quick else "full",
        "seed": args.seed,
        "versions": _versions(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}",
        "time": f"{elapsed:.1f} s",
    })
    paths = rep.write(report, out_dir)
    stream.write("\n" + rep.summary_text(report) + "\n")
    stream.write(f"\nReport: {paths['html']} (also report.md, report.json, {len(paths['plots'])} plots); "
                 f"{elapsed:.1f} s.\n")
    stream.flush()
    return report


def main(argv=None) -> int:
    """The console script. Returns the exit status (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in _OWN_PARSERS:
        return importlib.import_module(_OWN_PARSERS[argv[0]]).main(argv[1:])
    try:
        report = run(argv)
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRAS:
            raise
        sys.stderr.write(f"refnn-compare needs {_EXTRAS[exc.name]}, which is not installed: "
                         'pip install -e ".[compare]"\n')
        return 2
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
