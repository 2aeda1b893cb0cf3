"""``comparisons.history_plot``: the training record as MATLAB's training tool draws it, from refnn's
History (curves + record + stop reason) and from Keras's (curves only)."""

from __future__ import annotations

import types

import numpy as np
import pytest

import refnn
from comparisons.history_plot import STATE_PANELS, best_epoch, draw_training_record, plot_history
from comparisons.report import new_figure
from refnn import callbacks, layers, optimizers

matplotlib = pytest.importorskip("matplotlib")


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(80, 4))
    y = refnn.utils.data.one_hot((x[:, 0] + 0.5 * rng.normal(size=80) > 0).astype(int), 2)
    return x, y


def _model(seed=0, optimizer=None):
    model = refnn.Sequential([layers.Dense(32, activation="relu"), layers.Dense(2, activation="softmax")],
                             input_dim=4, seed=seed, dtype="float64")
    model.compile(optimizer=optimizer or optimizers.SGD(0.5), loss="categorical_crossentropy")
    return model


@pytest.fixture(scope="module")
def early_stopped():
    x, y = _data()
    stopper = callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = _model().fit(x, y, epochs=200, batch_size=8, validation_split=0.25, verbose=0, callbacks=[stopper])
    assert history.stop_reason == "early stopping"
    return history, stopper


def _vlines(ax):
    """x of every vertical line on the axes (``axvline``: constant x)."""
    return [(line.get_xdata()[0], line.get_label()) for line in ax.lines
            if len(set(np.atleast_1d(line.get_xdata()))) == 1 and len(line.get_xdata()) == 2]


def test_a_refnn_fit_with_validation_gets_every_panel_and_the_best_epoch(early_stopped, tmp_path):
    history, stopper = early_stopped
    fig = plot_history(history, title="toy")
    titles = [ax.get_title() for ax in fig.axes]
    assert len(fig.axes) == 4  # curves, gradient norm, learning rate, validation failures
    assert titles[1:] == [STATE_PANELS[k][0] for k in ("gradient_norm", "learning_rate", "validation_failures")]
    assert "stopped: early stopping" in titles[0] and f"({len(history.epoch)} epochs" in titles[0]
    best = int(np.argmin(history.history["val_loss"]))
    assert best_epoch(history) == best == stopper.best_epoch
    [(x, label)] = _vlines(fig.axes[0])
    assert x == best + 1  # epochs 1-based on the axis, as Keras prints them
    assert label == f"best epoch {best + 1}, val_loss {history.history['val_loss'][best]:.3g}"
    curves = {line.get_label(): line for line in fig.axes[0].lines}
    np.testing.assert_array_equal(curves["val_loss"].get_xdata(), np.arange(1, len(history.epoch) + 1))
    failures = fig.axes[3].lines[0].get_ydata()
    np.testing.assert_array_equal(failures, history.record["validation_failures"])
    assert failures[-1] == stopper.patience
    assert fig.axes[1].get_yscale() == "log"
    fig.savefig(tmp_path / "record.svg")
    fig.savefig(tmp_path / "record.png")
    assert (tmp_path / "record.svg").stat().st_size > 0 and (tmp_path / "record.png").stat().st_size > 0


def test_the_loss_axis_is_logarithmic_only_when_positive_and_wider_than_a_decade():
    wide = types.SimpleNamespace(history={"loss": [1.0, 0.3, 0.05]})
    narrow = types.SimpleNamespace(history={"loss": [1.0, 0.5, 0.2]})
    negative = types.SimpleNamespace(history={"loss": [10.0, 0.1, -0.5]})
    assert plot_history(wide).axes[0].get_yscale() == "log"
    assert plot_history(narrow).axes[0].get_yscale() == "linear"
    assert plot_history(negative).axes[0].get_yscale() == "linear"


def test_without_validation_the_best_epoch_is_that_of_the_smallest_loss_and_nans_are_skipped():
    x, y = _data()
    history = _model().fit(x, y, epochs=6, batch_size=8, verbose=0)
    assert history.stop_reason == "epochs"
    assert best_epoch(history) == int(np.argmin(history.history["loss"]))
    fig = plot_history(history)
    assert len(fig.axes) == 3  # no validation: no validation failures panel
    assert "validation failures" not in " ".join(ax.get_title() for ax in fig.axes)
    assert best_epoch(types.SimpleNamespace(history={"loss": [3.0, float("nan"), 1.0, 2.0]})) == 2
    # initial_epoch: the epochs the history holds are numbered from it
    assert best_epoch(types.SimpleNamespace(history={"loss": [3.0, 1.0]}, epoch=[5, 6])) == 6


def test_levenberg_marquardt_adds_mu_on_a_log_axis():
    x = np.linspace(-1, 1, 20).reshape(-1, 1)
    model = refnn.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(1)], input_dim=1, seed=0)
    model.compile(optimizer=optimizers.LevenbergMarquardt(), loss="mse")
    history = model.fit(x, np.sin(3 * x), epochs=15, batch_size=20, verbose=0)
    fig = plot_history(history)
    assert [ax.get_ylabel() for ax in fig.axes[1:]] == ["‖Jᵀe‖₂", "μ"]
    assert fig.axes[2].get_yscale() == "log"
    np.testing.assert_array_equal(fig.axes[2].lines[0].get_ydata(), history.record["mu"])


def test_ax_draws_the_curves_alone_and_fig_draws_on_a_given_figure(early_stopped):
    history, _ = early_stopped
    own = new_figure(6, 4)
    ax = own.add_subplot(1, 1, 1)
    assert plot_history(history, ax=ax, keys=["loss"]) is own
    assert [line.get_label() for line in ax.lines][0] == "loss" and len(own.axes) == 1
    given = new_figure(7, 8)
    assert plot_history(history, fig=given) is given and len(given.axes) == 4
    drawn = draw_training_record(new_figure(7, 4), dict(history.history), stop_reason="epochs")
    assert len(drawn.axes) == 1 and "stopped: epochs" in drawn.axes[0].get_title()
    with pytest.raises(TypeError, match="not both"):
        plot_history(history, ax=ax, fig=given)
    with pytest.raises(ValueError, match=r"`keys` names \['accuracy'\]"):
        plot_history(history, keys=["loss", "accuracy"])
    assert [line.get_label() for line in plot_history(history, keys="val_loss").axes[0].lines][0] == "val_loss"


def test_a_keras_history_works_too():
    keras = pytest.importorskip("keras")
    x, y = _data()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
    history = model.fit(x, y, epochs=4, batch_size=16, validation_split=0.25, verbose=0)
    fig = plot_history(history)
    assert len(fig.axes) == 1  # Keras records no training state
    assert "stopped" not in fig.axes[0].get_title() and "4 epochs" in fig.axes[0].get_title()
    assert best_epoch(history) == int(np.argmin(history.history["val_loss"]))
    [(x_best, _)] = _vlines(fig.axes[0])
    assert x_best == best_epoch(history) + 1


@pytest.mark.parametrize("bad", [{"loss": [1.0]}, [0.5, 0.4], None, np.zeros(3)])
def test_anything_but_a_history_is_refused_naming_the_argument_and_its_type(bad):
    with pytest.raises(TypeError, match=rf"`history` must be the History .*Received: history of type "
                                        rf"{type(bad).__name__}"):
        plot_history(bad)
    with pytest.raises(TypeError, match="`history`"):
        best_epoch(bad)


def test_a_history_without_a_finite_loss_is_refused():
    with pytest.raises(ValueError, match="no finite `loss`"):
        best_epoch(types.SimpleNamespace(history={"loss": [float("nan")]}))
    with pytest.raises(ValueError, match="no finite `loss`"):
        plot_history(types.SimpleNamespace(history={}))
