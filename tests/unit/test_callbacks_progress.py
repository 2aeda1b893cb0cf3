"""Progress output of fit: verbose 0, 1 (live bar) and 2 (a line per epoch), into a StringIO."""

import io
import re

import numpy as np
import pytest

import refnn
from refnn import layers, optimizers
from refnn.callbacks import ProgressBar
from refnn.callbacks.progress import format_logs


class StepClock:
    """Each call advances time by ``step`` seconds: timings in the output are deterministic."""

    def __init__(self, step=0.25):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


def setup(n=12):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3))
    y = (x[:, :1] > 0).astype(float)
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(1, activation="sigmoid")],
                             input_dim=3, seed=0)
    model.compile(optimizers.SGD(learning_rate=0.1), "binary_crossentropy", metrics=["accuracy"])
    return model, x, y


def test_verbose_2_one_line_per_epoch():
    model, x, y = setup()
    out = io.StringIO()
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, validation_split=0.25,
                        callbacks=[ProgressBar(2, stream=out, clock=StepClock())])
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    for epoch, line in enumerate(lines[1::2]):
        h = {k: v[epoch] for k, v in history.history.items()}
        # clock: begin at 0.25 s, end at 0.5 s → 0.25 s for 3 steps = 83 ms/step
        assert line == (f"3/3 - 0.25s - 83ms/step - loss: {h['loss']:.4f} - accuracy: {h['accuracy']:.4f} "
                        f"- val_loss: {h['val_loss']:.4f} - val_accuracy: {h['val_accuracy']:.4f}")


def test_verbose_1_on_a_file_writes_only_the_final_bar():
    model, x, y = setup()
    out = io.StringIO()
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0,
                        callbacks=[ProgressBar(1, stream=out, clock=StepClock())])
    text = out.getvalue()
    assert "\r" not in text  # a StringIO is not a terminal: no redrawing
    lines = text.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    bar = "━" * 30
    assert lines[3] == (f"3/3 {bar} 0.25s 83ms/step - loss: {history.history['loss'][1]:.4f} "
                        f"- accuracy: {history.history['accuracy'][1]:.4f}")


def test_verbose_1_live_bar_redraws_with_running_logs():
    model, x, y = setup()
    out = io.StringIO()
    running = []

    class Spy(refnn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            running.append(dict(logs))

    history = model.fit(x, y, epochs=1, batch_size=4, verbose=0,
                        callbacks=[Spy(), ProgressBar(1, stream=out, interval=0.0, dynamic=True,
                                                      clock=StepClock(0.001))])
    frames = out.getvalue().split("\r")
    assert frames[0] == "Epoch 1/1\n"
    assert len(frames) == 1 + 3 + 1  # header, one frame per batch, the final line
    for batch, frame in enumerate(frames[1:4]):
        filled = "━" * (10 * (batch + 1))
        assert frame.startswith(f"{batch + 1}/3 {filled}{' ' * (30 - len(filled))} ")
        assert f"loss: {running[batch]['loss']:.4f} - accuracy: {running[batch]['accuracy']:.4f}" in frame
    assert frames[-1].endswith("\n") and f"loss: {history.history['loss'][0]:.4f}" in frames[-1]
    # frames are padded so that a shorter line hides the previous one entirely
    assert len(frames[2]) >= len(frames[1].rstrip())


def test_live_bar_is_throttled_by_interval():
    model, x, y = setup(n=40)
    out = io.StringIO()
    model.fit(x, y, epochs=1, batch_size=4, verbose=0,
              callbacks=[ProgressBar(1, stream=out, interval=0.35, dynamic=True, clock=StepClock(0.1))])
    # 10 batches, 0.1 s apart: drawn at batches 1, 5, 9 (each ≥ 0.35 s after the previous), then final
    frames = out.getvalue().split("\r")[1:]
    assert [f.split("/")[0] for f in frames] == [" 1", " 5", " 9", "10"]  # right-aligned


def test_fit_verbose_levels_on_stdout(capsys):
    model, x, y = setup()
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 2 and re.search(r"^1/1 - [\d.]+s - \d+[mu]?s/step - loss: \d\.\d{4} - accuracy:", out, re.M)
    model.fit(x, y, epochs=2, verbose=1)
    out = capsys.readouterr().out
    assert out.count("Epoch ") == 2 and "━" * 30 in out


def test_a_progress_bar_passed_as_callback_replaces_the_default(capsys):
    model, x, y = setup()
    out = io.StringIO()
    model.fit(x, y, epochs=1, verbose=1, callbacks=[ProgressBar(2, stream=out)])
    assert capsys.readouterr().out == "" and out.getvalue().startswith("Epoch 1/1\n1/1 - ")


def test_value_formatting_like_keras():
    assert format_logs({"loss": 0.123456, "mae": 2e-4, "acc": 0.0, "big": 1234.5}) == (
        "loss: 0.1235 - mae: 2.0000e-04 - acc: 0.0000 - big: 1234.5000")
    assert format_logs({"loss": float("nan")}) == "loss: nan"


def test_verbose_must_be_0_1_2():
    with pytest.raises(ValueError, match=r"`verbose` must be 0, 1 or 2. Received: verbose=3"):
        ProgressBar(3)
    with pytest.raises(ValueError, match=r"`verbose` must be 0, 1 or 2. Received: verbose=True"):
        ProgressBar(True)
