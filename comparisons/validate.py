"""``refnn-compare validate MODEL.keras --data FILE.npz``: a Keras user's own model and data,
refnn against Keras, in one command.

Runs ``keras_bridge.compare.validate`` — forward pass, per-layer gradients, optimizer steps on the
model's own gradients, a short ``fit`` from the same weights, in float64 and in the model's dtype —
prints the summary and every table, and writes ``index.html``, ``report.md`` and ``report.json``
to ``--out`` (default ``reports/validate-<model name>``).

Data: ``--data FILE.npz`` holding arrays ``x`` and ``y`` (targets as the model's loss expects
them), or ``--dataset NAME`` for one of scikit-learn's bundled sets (``comparisons.datasets``:
the training split; one-hot targets become class ids for a sparse crossentropy).

Exit status: 0 when every check agrees within the tolerance of the contract (known differences
labelled), 1 when one does not, 2 for a usage error (a file that is not a Keras model, data that
does not fit the model) or a missing dependency.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

import numpy as np

__all__ = ["build_parser", "load_data", "report_of", "main"]


def build_parser() -> argparse.ArgumentParser:
    from comparisons.datasets import NAMES

    parser = argparse.ArgumentParser(
        prog="refnn-compare validate",
        description="Compare a Keras model (.keras file) with refnn on your data: forward pass, per-layer "
                    "gradients, optimizer steps and a short fit, in float64 and in the model's dtype.")
    parser.add_argument("model", help="a Keras model file (.keras)")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", metavar="FILE.npz", help="a NumPy .npz file with arrays x and y")
    data.add_argument("--dataset", choices=NAMES, help="one of scikit-learn's bundled data sets")
    parser.add_argument("--steps", type=int, default=5, help="optimizer steps on one batch (default 5)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the short fit (default 3)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="batch size of the steps and the fit (default 32; every row for Rprop, Quickprop and "
                             "Levenberg–Marquardt, which are full-batch methods)")
    parser.add_argument("--out", metavar="DIR", help="where to write the report (default reports/validate-<name>)")
    return parser


def load_data(args, keras_model) -> tuple[np.ndarray, np.ndarray, str]:
    """``(x, y, description)`` from ``--data`` or ``--dataset``.

    Raises:
        ValueError: a file without ``x``/``y``, or data whose shapes do not fit the model.
    """
    if args.data:
        with np.load(args.data, allow_pickle=False) as archive:
            missing = [name for name in ("x", "y") if name not in archive.files]
            if missing:
                raise ValueError(f"`--data` must hold arrays named x and y. Received: {args.data!r} with "
                                 f"arrays {archive.files}")
            x, y, what = archive["x"], archive["y"], os.path.basename(args.data)
    else:
        from comparisons.datasets import load

        dataset = load(args.dataset)
        x, y, what = dataset.x_train, dataset.y_train, f"{dataset.description} (training split)"
        loss = getattr(keras_model, "loss", None)
        if "sparse" in (loss if isinstance(loss, str) else type(loss).__name__).lower():
            y = y.argmax(axis=1)  # the bundled sets are one-hot; a sparse crossentropy takes class ids
    width = int(keras_model.inputs[0].shape[-1])
    if x.ndim != 2 or x.shape[1] != width or len(y) != len(x):
        raise ValueError(f"The data does not fit the model: it takes inputs of width {width}. Received: "
                         f"x.shape={x.shape}, y.shape={np.shape(y)}")
    return x, y, what


def report_of(validation, meta: dict):
    """The validation as a ``comparisons.report.Report``: a summary check per kind of comparison
    and dtype, and every table."""
    from comparisons import report as rep
    from keras_bridge.compare.results import largest_magnitude

    sections = {}
    for dtype, check, result in validation.checks:
        section = sections.setdefault(check, rep.Section(check, _TITLES[check]))
        counted = [row for row in result.rows if row.status != "known difference"]
        kind = rep.PORT if check in ("steps", "fit") and validation.port else rep.KERAS
        note = "; ".join(n for n in result.notes if n.startswith("known difference"))
        section.checks.append(rep.Check(f"{check} ({dtype})", {dtype: max((r.max_rel for r in counted), default=0.0)},
                                        {dtype: max((r.rtol for r in result.rows), default=0.0)}, note, kind))
        section.add(rep.Heading(f"{dtype} · {check}"), *result.notes,
                    rep.Table(["layer", "quantity", "shape", "max |keras|", "max abs diff", "max rel diff",
                               "tolerance", "status"],
                              [[r.layer, r.quantity, str(np.shape(r.keras)), rep.fmt_num(largest_magnitude(r.keras)),
                                rep.fmt_err(r.max_abs), rep.fmt_err(r.max_rel), f"{r.rtol:.0e}",
                                "pass" if r.status == "ok" else r.status] for r in result.rows]))
        section.data.setdefault(dtype, result.errors)
    notes = rep.Section("notes", "What was set aside", blocks=list(validation.notes) or ["Nothing."])
    return rep.Report(f"Validation of {validation.model_name!r} against Keras", [*sections.values(), notes], meta)


_TITLES = {"forward": "Forward pass: every layer's output and the loss",
           "gradients": "Gradients: ∂E/∂kernel, ∂E/∂bias and ∂E/∂X per layer",
           "steps": "Optimizer steps on the model's own gradients",
           "fit": "A short fit from the same weights"}


def main(argv=None, stream=None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)
    stream = sys.stdout if stream is None else stream
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from comparisons import report as rep
        from keras_bridge import compare
        from keras_bridge.saving import load_keras_model
    except ModuleNotFoundError as exc:
        sys.stderr.write(f"refnn-compare validate needs {exc.name}: pip install -e \".[compare]\"\n")
        return 2
    try:
        keras_model = load_keras_model(args.model)
        x, y, what = load_data(args, keras_model)
        validation = compare.validate(keras_model, x, y, n_steps=args.steps, epochs=args.epochs,
                                      batch_size=args.batch_size)
    except (ValueError, FileNotFoundError) as exc:
        sys.stderr.write(f"refnn-compare validate: {exc}\n")
        return 2
    optimizer = validation.optimizer + (" (refnn's Keras port, keras_bridge.plugins)" if validation.port else "")
    meta = {"model": os.path.abspath(args.model), "data": what, "rows": len(x), "optimizer": optimizer,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    report = report_of(validation, meta)
    out_dir = os.path.abspath(args.out or os.path.join("reports", f"validate-{validation.model_name}"))
    paths = rep.write(report, out_dir)
    stream.write(validation.table() + f"\n\nReport: {paths['html']} (also report.md, report.json)\n")
    return 0 if validation.passed else 1
