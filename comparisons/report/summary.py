"""Numbers as text, and the summary tables every writer and the CLI print."""

from __future__ import annotations

import math

from comparisons.report.blocks import CHECK_KINDS, KERAS, PORT, SELF, STATS, Check, Report, Table
from refnn.utils.text import format_table

__all__ = ["fmt_err", "fmt_num", "format_table", "summary_tables", "summary_text", "summary_line"]


def fmt_err(value) -> str:
    """A relative error: ``—`` (not measured), ``0`` (bit-identical), else ``3.3e-16``."""
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    return "0" if value == 0.0 else f"{value:.1e}"


def fmt_num(value, digits: int = 4) -> str:
    """A measured quantity with ``digits`` significant digits; ``—`` for None."""
    if value is None:
        return "—"
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.{max(digits - 1, 0)}e}"
    return f"{value:.{digits}g}"


def _status(check: Check) -> str:
    return {True: "pass", False: "FAIL", None: "not run"}[check.passed]


def _tolerance(check: Check) -> str:
    return " / ".join(f"{check.tolerance[k]:.0e}" for k in ("float64", "float32") if k in check.tolerance)


#: the summary table of each kind of check: (first column, caption)
_CHECK_TABLES = {
    KERAS: ("comparison (refnn vs Keras/TensorFlow, live)",
            "Independent checks: the same computation in refnn and in Keras/TensorFlow; the error is "
            "max|refnn − keras| / max|keras| over the compared tensors."),
    PORT: ("consistency (refnn vs its own Keras port, keras_bridge.plugins)",
           "Not independent: Keras has no Rprop, Quickprop or Levenberg–Marquardt, so these compare refnn "
           "with the bridge's Keras implementation of the same rules — they show the port is faithful."),
    STATS: ("statistical agreement (refnn vs Keras/TensorFlow, live, over seeds)",
            "Each framework draws its own random numbers (dropout masks), so the runs cannot agree number for "
            "number; the means over several seeds can. The error is |difference of the means| / (Welch's critical t "
            "at the Bonferroni-corrected 1 % level × its standard error): 1 or less is agreement."),
    SELF: ("refnn alone (finite differences, closed forms)",
           "refnn against central finite differences or a closed-form value; no other framework."),
}


def _check_table(kind: str, checks: list[Check]) -> Table:
    first, caption = _CHECK_TABLES[kind]
    rows = [[c.what + (f" ({c.note})" if c.note else ""), fmt_err(c.errors.get("float64")),
             fmt_err(c.errors.get("float32")), _tolerance(c), _status(c)] for c in checks]
    return Table([first, "max rel. error float64", "float32", "tolerance f64 / f32", "result"], rows, caption)


def summary_tables(report: Report) -> list[Table]:
    """One table per kind of check (independent first), then the teaching differences, then the
    published problems."""
    tables = []
    for kind in CHECK_KINDS:
        checks = [c for c in report.checks if c.kind == kind]
        if checks:
            tables.append(_check_table(kind, checks))
    if report.differences:
        tables.append(Table(["teaching difference", "size of the difference"],
                            [[d.what, d.size] for d in report.differences],
                            "Where the textbook formulas and Keras differ, and what the numbers mean — measured live."))
    if report.findings:
        tables.append(Table(["published problem (refnn alone)", "measured", "published"],
                            [[f.what, f.measured, f.published] for f in report.findings],
                            "Classic full-batch algorithms on the problems of their papers."))
    return tables


def summary_text(report: Report) -> str:
    """The summary tables as plain text (what the CLI prints)."""
    out = []
    for table in summary_tables(report):
        out += [table.caption, format_table(table.headers, table.rows), ""]
    line = summary_line(report)
    return "\n".join(out + [line] if line else out)


#: how the summary line names each kind of check
_KIND_WORDS = {KERAS: "against Keras/TensorFlow", STATS: "statistical, against Keras over seeds",
               PORT: "against refnn's own Keras port", SELF: "refnn alone"}


def summary_line(report: Report) -> str:
    """``"39 of 39 comparisons within tolerance (35 against Keras/TensorFlow, 4 refnn alone)."``
    (with the failed and unmeasured counts), or ``""`` when the report measured nothing."""
    checks = report.checks
    if not checks:
        return ""
    n_fail = sum(c.passed is False for c in checks)
    n_skip = sum(c.passed is None for c in checks)
    kinds = [f"{sum(c.kind == kind for c in checks)} {_KIND_WORDS[kind]}" for kind in CHECK_KINDS
             if any(c.kind == kind for c in checks)]
    return (f"{len(checks) - n_fail - n_skip} of {len(checks)} comparisons within tolerance"
            + (f", {n_fail} FAILED" if n_fail else "") + (f", {n_skip} not run" if n_skip else "")
            + f" ({', '.join(kinds)}).")
