"""The training record drawn as MATLAB's training tool shows it (``nntraintool``: ``plotperform``
and ``plottrainstate``), from the ``History`` that ``fit`` returns — refnn's or Keras's.

* Panel 1, the performance: ``loss`` and ``val_loss`` against the epoch (1-based, as Keras prints
  ``Epoch 1/20``), on a log axis when every value is positive and they span more than a decade;
  the best epoch ``argmin val_loss`` (``argmin loss`` without validation) marked by a vertical
  line, and the stop reason (``history.stop_reason``) in the title.
* Below it, the training state, for what refnn recorded (``history.record``; a Keras History has
  none): the gradient norm ``‖∇E‖₂`` (log axis), the learning rate, the validation failures
  (MATLAB's ``val_fail``: epochs since the best ``val_loss``) and Levenberg–Marquardt's μ (log).

``plot_history(history)`` returns a ``matplotlib.figure.Figure`` on an Agg canvas (no pyplot, no
display: ``figure.savefig("run.svg")`` saves it); ``plot_history(history, fig=f)`` draws on a figure
you own (a report's ``Figure(draw=...)``), ``ax=`` draws panel 1 alone on your axes.
``draw_training_record`` draws the same from plain per-epoch lists (numbers kept in a report).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

__all__ = ["plot_history", "draw_training_record", "best_epoch", "set_log_scale", "STATE_PANELS"]

#: record key → (panel title, y label, y scale): the training-state panels, in MATLAB's order
STATE_PANELS = {
    "gradient_norm": ("gradient norm (last batch of the epoch)", "‖∇E‖₂", "log"),
    "learning_rate": ("learning rate", "η", "linear"),
    "validation_failures": ("validation failures (epochs since the best val_loss)", "val_fail", "linear"),
    "mu": ("Levenberg–Marquardt damping", "μ", "log"),
}
_COLORS = ("C0", "C1", "C2", "C3", "C4", "C5")


def _unpack(history, name: str = "history") -> tuple[dict, dict, str | None, list]:
    """``(curves, record, stop_reason, epochs)`` of a refnn or Keras ``History``."""
    curves = getattr(history, "history", None)
    if not isinstance(curves, Mapping) or isinstance(history, Mapping):
        hint = " (a dict of lists: draw it with draw_training_record(fig, curves))" \
            if isinstance(history, Mapping) else ""
        raise TypeError(
            f"`{name}` must be the History that `fit` returns (refnn's or Keras's), whose `.history` "
            f"holds the per-epoch lists. Received: {name} of type {type(history).__name__}{hint}")
    record = getattr(history, "record", None)
    record = dict(record) if isinstance(record, Mapping) else {}
    epochs = list(getattr(history, "epoch", None) or [])
    return dict(curves), record, getattr(history, "stop_reason", None), epochs


def _monitored(curves: Mapping) -> str:
    """``"val_loss"`` when it has a finite value, else ``"loss"``."""
    for key in ("val_loss", "loss"):
        values = np.asarray(curves.get(key, []), dtype=np.float64)
        if values.size and np.any(np.isfinite(values)):
            return key
    raise ValueError(
        "The history has no finite `loss` or `val_loss`: nothing to mark as the best epoch. "
        f"Received keys: {sorted(curves)}")


def _best_position(curves: Mapping) -> tuple[int, str]:
    """Position (0-based) of the first smallest finite value of the monitored key, and the key."""
    key = _monitored(curves)
    values = np.asarray(curves[key], dtype=np.float64)
    return int(np.nanargmin(np.where(np.isfinite(values), values, np.nan))), key


def best_epoch(history) -> int:
    """The epoch (0-based, as ``EarlyStopping.best_epoch``) of the smallest ``val_loss`` — of the
    smallest ``loss`` without validation; the first one on ties. Over the epochs a run with
    ``EarlyStopping(monitor="val_loss", min_delta=0, restore_best_weights=True)`` recorded, this is
    the epoch it restored — unless two values tie in float32 only (Keras's comparison dtype).

    Raises:
        TypeError: ``history`` is not a History.
        ValueError: no finite loss was recorded.
    """
    curves, _, _, epochs = _unpack(history)
    position, _ = _best_position(curves)
    return int(epochs[position]) if len(epochs) > position else position


def set_log_scale(ax) -> None:
    """A log y axis; its minor ticks unlabelled once two powers of ten are labelled (the labels
    would crowd a short panel), labelled as matplotlib does on a narrower range."""
    from matplotlib.ticker import NullFormatter

    ax.set_yscale("log")
    low, high = ax.get_ylim()
    if low > 0 and np.floor(np.log10(high)) - np.ceil(np.log10(low)) >= 1:
        ax.yaxis.set_minor_formatter(NullFormatter())


def _log_if_wide(ax, values) -> None:
    """A log y axis when every finite value is positive and they span more than a decade."""
    finite = np.asarray([v for v in values if np.isfinite(v)], dtype=np.float64)
    if finite.size and finite.min() > 0 and finite.max() / finite.min() > 10.0:
        set_log_scale(ax)


def _draw_loss_panel(ax, curves: Mapping, x: np.ndarray, keys, title: str, ylabel: str) -> None:
    from comparisons.report.plots import style_axes

    if keys is None:
        keys = [k for k in ("loss", "val_loss") if k in curves]
    else:
        keys = [keys] if isinstance(keys, str) else list(keys)
        missing = [k for k in keys if k not in curves]
        if missing:
            raise ValueError(f"`keys` names {missing}, which the history does not hold. "
                             f"Available keys: {sorted(curves)}")
    values = []
    for color, key in zip(_COLORS, keys):
        y = np.asarray(curves[key], dtype=np.float64)
        ax.plot(x[:y.size], y, "-", color=color, linewidth=1.8, label=key)
        values += list(y)
    _log_if_wide(ax, values)
    position, key = _best_position(curves)
    ax.axvline(x[position], color="0.2", linestyle="--", linewidth=1.2,
               label=f"best epoch {int(x[position])}, {key} {curves[key][position]:.3g}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    style_axes(ax, title, "epoch", ylabel)


def _draw_state_panel(ax, key: str, x: np.ndarray, values, bottom: bool, levenberg_marquardt: bool) -> None:
    from comparisons.report.plots import style_axes

    title, ylabel, scale = STATE_PANELS[key]
    if key == "gradient_norm" and levenberg_marquardt:
        title, ylabel = "gradient ‖Jᵀe‖₂ (Levenberg–Marquardt, before the step)", "‖Jᵀe‖₂"
    y = np.asarray(values, dtype=np.float64)
    if key == "validation_failures":
        ax.step(x[:y.size], y, where="mid", color="C2", linewidth=1.6)
        ax.yaxis.get_major_locator().set_params(integer=True)
    else:
        ax.plot(x[:y.size], y, "-", color="C2", linewidth=1.6)
        if scale == "log" and np.all(y[np.isfinite(y)] > 0):
            set_log_scale(ax)
        elif scale == "linear":
            _log_if_wide(ax, y)
    style_axes(ax, title, "epoch" if bottom else "", ylabel, legend=False)


def _title(title: str | None, stop_reason: str | None, n_epochs: int, record: Mapping) -> str:
    text = title or "training record"
    ran = f"{n_epochs} epoch{'s' if n_epochs != 1 else ''}"
    seconds = record.get("seconds") or []
    if seconds:
        ran += f", {seconds[-1]:.2f} s"
    return f"{text} — stopped: {stop_reason} ({ran})" if stop_reason else f"{text} — {ran}"


def draw_training_record(fig, curves: Mapping, record: Mapping | None = None, stop_reason: str | None = None,
                         epochs=None, keys=None, title: str | None = None, ylabel: str = "loss"):
    """Draw the training record on ``fig`` (empty) from plain per-epoch lists: ``curves`` as
    ``History.history``, ``record`` as ``History.record``, ``epochs`` the 0-based epoch numbers
    (default ``0 … n−1``). Panel 1 shows ``keys`` (default ``loss``, ``val_loss``); one panel
    follows for each key of ``STATE_PANELS`` found in ``record``. Returns ``fig``."""
    if not isinstance(curves, Mapping):
        raise TypeError("`curves` must be a dict of per-epoch lists (History.history). "
                        f"Received: curves of type {type(curves).__name__}")
    _monitored(curves)
    record = dict(record or {})
    n = max(len(values) for values in curves.values())
    x = (np.arange(n) if epochs is None or len(epochs) < n else np.asarray(epochs[:n])) + 1
    states = [k for k in STATE_PANELS if len(record.get(k) or []) > 0]
    grid = fig.add_gridspec(1 + len(states), 1, height_ratios=[2.2] + [1.0] * len(states))
    first = fig.add_subplot(grid[0])
    _draw_loss_panel(first, curves, x, keys, _title(title, stop_reason, n, record), ylabel)
    for row, key in enumerate(states, start=1):
        _draw_state_panel(fig.add_subplot(grid[row], sharex=first), key, x, record[key], row == len(states),
                          levenberg_marquardt="mu" in states)
    return fig


def plot_history(history, ax=None, keys=None, title: str | None = None, fig=None, ylabel: str = "loss"):
    """The training record of ``history`` (a refnn or Keras ``History``) as a matplotlib Figure.

    Args:
        history: what ``fit`` returns; refnn's adds ``record`` and ``stop_reason``.
        ax: draw panel 1 (the curves and the best epoch) alone on these axes.
        keys: the history keys of panel 1 (default ``("loss", "val_loss")``, those present).
        title: panel 1's title; the stop reason, epochs and seconds are appended.
        fig: an empty ``matplotlib.figure.Figure`` to draw every panel on (default: a new one on
            an Agg canvas, sized for the panels).
        ylabel: panel 1's y label (say which loss: ``"loss (crossentropy)"``).

    Returns:
        the Figure (``figure.savefig(path)`` saves it; ``ax.figure`` when ``ax`` was given).

    Raises:
        TypeError: ``history`` is not a History; ``ax`` and ``fig`` given together.
        ValueError: no finite loss was recorded.
    """
    curves, record, stop_reason, epochs = _unpack(history)
    if ax is not None and fig is not None:
        raise TypeError("Pass `ax` (panel 1 only) or `fig` (every panel), not both.")
    if ax is not None:
        _monitored(curves)
        n = max(len(values) for values in curves.values())
        x = (np.asarray(epochs[:n]) if len(epochs) >= n else np.arange(n)) + 1
        _draw_loss_panel(ax, curves, x, keys, _title(title, stop_reason, n, record), ylabel)
        return ax.figure
    if fig is None:
        from comparisons.report.plots import new_figure

        fig = new_figure(7.5, 3.6 + 1.7 * sum(len(record.get(k) or []) > 0 for k in STATE_PANELS))
    return draw_training_record(fig, curves, record, stop_reason, epochs, keys, title, ylabel)
