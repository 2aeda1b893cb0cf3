"""Notebook: when to stop training — a number of epochs, a time budget, or the validation loss.

    epochs:          stop after E passes over the data
    time (refnn):    TimeLimit(s) stops after the epoch in which s seconds have elapsed
    EarlyStopping:   stop when val_loss has not improved (by more than min_delta) for `patience` epochs

refnn's ``callbacks.TimeLimit`` and ``callbacks.EarlyStopping`` beside Keras's ``EarlyStopping``
and a small Keras callback for the time budget (Keras has none). Keras trains
``keras_bridge.to_keras`` twins (same initial weights, ``shuffle=False`` on both sides). The setup
cell reads ``REFNN_NOTEBOOK_EPOCHS`` (20; early stopping may run 10× as many),
``REFNN_NOTEBOOK_ROWS`` (500 training rows) and ``REFNN_NOTEBOOK_SECONDS`` (the 3 s budget).
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Stopping: by epochs, by time, by validation"

CELLS = [
    md(r"""
        # Stopping: by epochs, by time, by validation

        - **epochs**: stop after $E$ passes over the data. Reproducible.
        - **time**: stop after the epoch in which $s$ seconds have elapsed (refnn's `TimeLimit`). Not
          reproducible: it depends on the machine and the framework.
        - **validation**: stop when `val_loss` has not improved for `patience` epochs (`EarlyStopping`),
          keep the best weights. Reproducible.

        `EarlyStopping`'s rule, as Keras writes it: after each epoch, if `val_loss` < best − `min_delta`
        then best ← `val_loss` and wait ← 0, else wait ← wait + 1 and training stops once
        wait ≥ `patience`. With `restore_best_weights=True` the model ends with the weights of its best epoch.
    """),
    setup_code("""
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()                                # bundled with scikit-learn
        x, y = digits.data / 16.0, np.eye(10)[digits.target]
        EPOCHS = int(os.environ.get("REFNN_NOTEBOOK_EPOCHS", 20))   # the lesson's size; the tests run it smaller
        ROWS = int(os.environ.get("REFNN_NOTEBOOK_ROWS", 500))
        SECONDS = float(os.environ.get("REFNN_NOTEBOOK_SECONDS", 3.0))
        x_train, x_val, y_train, y_val = train_test_split(x, y, train_size=ROWS, test_size=300, random_state=0)
    """),
    md(r"""
        ## refnn

        Three runs of the same network from the same weights: `EPOCHS` epochs; as many epochs as fit in
        `SECONDS` (`callbacks.TimeLimit`); and until `val_loss` stops improving
        (`callbacks.EarlyStopping(patience=5)`, at most 10 × `EPOCHS` epochs). Each callback says why it
        stopped: `TimeLimit.timed_out`, `EarlyStopping.stopped_epoch` and `best_epoch`. A small callback
        records the time of each epoch.
    """),
    code("""
        def make_model():
            model = refnn.Sequential([layers.Dense(64, activation="relu"), layers.Dense(10, activation="softmax")],
                                     input_dim=64, seed=0, dtype="float64")
            model.compile(optimizer=optimizers.SGD(learning_rate=0.2), loss="categorical_crossentropy")
            return model


        class EpochClock(callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start, self.seconds = time.perf_counter(), []

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self.start)


        time_limit = callbacks.TimeLimit(SECONDS)
        early = callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
        fixed = f"{EPOCHS} epochs"
        runs = {fixed: (EPOCHS, []),                                    # label: (epochs at most, callbacks)
                f"time limit {SECONDS:g} s": (100_000, [time_limit]),  # a bound the time limit reaches first
                "early stopping": (10 * EPOCHS, [early])}
        refnn_runs = {}
        for label, (epochs, stop) in runs.items():
            clock = EpochClock()
            history = make_model().fit(x_train, y_train, epochs=epochs, batch_size=32, shuffle=False,
                                       validation_data=(x_val, y_val), callbacks=stop + [clock], verbose=0)
            refnn_runs[label] = (history.history["val_loss"], clock.seconds)
            print(f"{label:16s} {len(history.epoch):4d} epochs in {clock.seconds[-1]:.2f} s")
        print(f"TimeLimit: timed_out={time_limit.timed_out}, stopped after epoch {time_limit.stopped_epoch}")
        print(f"EarlyStopping: stopped after epoch {early.stopped_epoch}, best epoch {early.best_epoch}")
    """),
    md(r"""
        ## Keras

        The same three runs in Keras's `fit` from the same initial weights (`keras_bridge.to_keras`).
        Keras's `EarlyStopping` has the same rules and attributes. Keras has no time limit: the small
        callback below is how a Keras user writes one (`self.model.stop_training = True`). Its first
        epoch also compiles the training step, part of the budget. (TensorFlow may print a few start-up
        lines about oneDNN or CUDA on stderr: they are harmless.)
    """),
    code("""
        import keras
        import keras_bridge


        class KerasTimeLimit(keras.callbacks.Callback):
            def __init__(self, seconds):
                super().__init__()
                self.seconds, self.timed_out, self.stopped_epoch = seconds, False, None

            def on_train_begin(self, logs=None):
                self.start = time.monotonic()

            def on_epoch_end(self, epoch, logs=None):
                if time.monotonic() - self.start >= self.seconds:
                    self.timed_out, self.stopped_epoch = True, epoch
                    self.model.stop_training = True


        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        keras_time_limit = KerasTimeLimit(SECONDS)
        keras_early = keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
        keras_stops = {fixed: [], f"time limit {SECONDS:g} s": [keras_time_limit],
                       "early stopping": [keras_early]}
        keras_runs = {}
        for label, (epochs, _) in runs.items():
            seconds, start = [], time.perf_counter()
            clock = keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - start))
            khistory = keras_bridge.to_keras(make_model()).fit(
                x_train, y_train, epochs=epochs, batch_size=32, shuffle=False, validation_data=(x_val, y_val),
                callbacks=keras_stops[label] + [clock], verbose=0)
            keras_runs[label] = (khistory.history["val_loss"], seconds)
            print(f"{label:16s} {len(khistory.epoch):4d} epochs in {seconds[-1]:.2f} s")
        print(f"time limit: timed_out={keras_time_limit.timed_out}, "
              f"stopped after epoch {keras_time_limit.stopped_epoch}")
        print(f"EarlyStopping: stopped after epoch {keras_early.stopped_epoch}, best epoch {keras_early.best_epoch}")
        for label in [fixed, "early stopping"]:
            gap = np.max(np.abs(np.subtract(refnn_runs[label][0], keras_runs[label][0])))
            print(f"{label:16s} max |refnn − Keras| of val_loss: {gap:.1e}")
    """),
    code("""
        fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
        for color, label in zip(["C0", "C1", "C2"], runs):
            for side, style, width, result in [("refnn", "-", 1.5, refnn_runs), ("Keras", ":", 3, keras_runs)]:
                val_loss, seconds = result[label]
                by_epoch.plot(range(1, len(val_loss) + 1), val_loss, style, color=color, linewidth=width,
                              label=f"{label}, {side}")
                by_time.plot(seconds, val_loss, style, color=color, linewidth=width, label=f"{label}, {side}")
                marker = "o" if side == "refnn" else "s"     # where each run stopped
                by_epoch.plot(len(val_loss), val_loss[-1], marker, color=color, markersize=9, fillstyle="none")
                by_time.plot(seconds[-1], val_loss[-1], marker, color=color, markersize=9, fillstyle="none")
        by_time.axvline(SECONDS, color="black", linewidth=0.8)
        by_epoch.set_xscale("log")
        by_epoch.set_xlabel("epoch (log scale)")
        by_epoch.set_ylabel("validation loss (crossentropy)")
        by_time.set_xscale("log")
        by_time.set_xlabel("seconds (wall clock, this machine; log scale)")
        by_time.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
        for ax in (by_epoch, by_time):
            ax.grid(alpha=0.3)
        plt.show()
    """),
    md(r"""
        On the left the three runs follow one curve (same weights, same batches) and stop at different
        points (circles: refnn, squares: Keras). The epoch and validation criteria stop refnn and Keras
        at the same epoch with the same curve: they depend only on the numbers. The time budget stops
        them at very different epochs: it measures the machine and the framework (a Keras step costs
        more than a NumPy one here, and its first epoch includes compiling), so a result trained
        "for `SECONDS` seconds" cannot be reproduced.
        Early stopping also finds the point where more epochs stop helping the validation loss.
    """),
]
