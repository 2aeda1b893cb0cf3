"""Notebook: stochastic, mini-batch and full-batch gradient descent on bundled digits.

    W ← W − η ∇E_B(W),  E_B = (1/|B|) Σ_{n∈B} ℓ_n:  |B| = 1 (stochastic), 32 (mini-batch), N (full batch)

The same network with three batch sizes, each with its own learning rate (η = 0.01, 0.1, 0.5:
the larger the batch, the less noisy its gradient and the larger the step it can take), in
refnn's ``fit`` and in Keras's ``fit`` from the same initial weights (``keras_bridge.to_keras`` of
an identically seeded model); both sides use ``shuffle=False`` on rows shuffled once, so they see
the same batches. The loss is drawn against epochs and against seconds, and the seconds each run
needs to reach a common loss are printed: which batch size wins per second is measured, not assumed.
The setup cell reads ``REFNN_NOTEBOOK_EPOCHS`` (15) and ``REFNN_NOTEBOOK_ROWS`` (240).
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Gradient descent: stochastic, mini-batch and full batch"

CELLS = [
    md(r"""
        # Gradient descent: stochastic, mini-batch and full batch

        Every step moves the weights against the gradient of the loss *on one batch* $B$:

        $$W \leftarrow W - \eta\, \nabla E_B(W), \qquad E_B = \frac{1}{|B|}\sum_{n \in B} \ell_n$$

        | batch size $|B|$ | name | steps per epoch | learning rate $\eta$ here |
        |---|---|---|---|
        | 1 | stochastic gradient descent | $N$ | 0.01 |
        | 32 | mini-batch | $\lceil N/32 \rceil$ | 0.1 |
        | $N$ | (full) batch gradient descent | 1 | 0.5 |

        Small batches take many cheap, noisy steps per epoch; the full batch takes one exact step.
        Each batch size gets its own learning rate: $\nabla E_B$ averages $|B|$ per-example gradients,
        so its noise shrinks as $|B|$ grows and a larger step stays on course (η grows with $|B|$),
        up to the limit the curvature of $E$ sets for any batch (plain gradient descent diverges once
        η exceeds 2/λ_max, λ_max the largest eigenvalue of the Hessian). (Try η = 0.05 for all three:
        the full batch, with one step per epoch, barely moves.)

        Per *epoch*, which batch size gets lowest? Per *second*? A step also has a fixed cost (a few
        NumPy calls in refnn, a TensorFlow dispatch in Keras), which many small steps pay many times:
        the plots and the timing table below answer both questions on this machine.
    """),
    setup_code("""
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()                              # bundled with scikit-learn: 8×8 images
        x = digits.data / 16.0                              # pixels in [0, 1]
        y = np.eye(10)[digits.target]                       # one-hot labels
        EPOCHS = int(os.environ.get("REFNN_NOTEBOOK_EPOCHS", 15))   # the lesson's size; the tests run it smaller
        ROWS = int(os.environ.get("REFNN_NOTEBOOK_ROWS", 240))
        x_train, _, y_train, _ = train_test_split(x, y, train_size=ROWS, random_state=0)  # shuffled once
        # label: (batch size, learning rate) — the larger the batch, the less noisy its gradient, the larger its step
        batch_sizes = {"batch size 1": (1, 0.01), "batch size 32": (32, 0.1),
                       f"full batch ({len(x_train)})": (len(x_train), 0.5)}
    """),
    md(r"""
        ## refnn

        The same network for each batch size, rebuilt from `seed=0` so that every run starts from the
        same weights; only the batch size and its learning rate change. A small callback records the
        elapsed time at the end of each epoch (`refnn.callbacks.Callback` has Keras's hooks:
        `on_train_begin`, `on_epoch_end`, …).
    """),
    code("""
        def make_model(learning_rate):
            model = refnn.Sequential([layers.Dense(32, activation="relu"), layers.Dense(10, activation="softmax")],
                                     input_dim=64, seed=0, dtype="float64")
            model.compile(optimizer=optimizers.SGD(learning_rate=learning_rate), loss="categorical_crossentropy")
            return model


        class EpochClock(callbacks.Callback):
            def on_train_begin(self, logs=None):
                self.start, self.seconds = time.perf_counter(), []

            def on_epoch_end(self, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self.start)


        refnn_runs = {}
        for label, (batch_size, learning_rate) in batch_sizes.items():
            clock = EpochClock()
            history = make_model(learning_rate).fit(x_train, y_train, epochs=EPOCHS, batch_size=batch_size,
                                                    shuffle=False, callbacks=[clock], verbose=0)
            refnn_runs[label] = (history.history["loss"], clock.seconds)
            print(f"{label:18s} final loss {history.history['loss'][-1]:.4f}  in {clock.seconds[-1]:.2f} s")
    """),
    md(r"""
        ## Keras

        `keras_bridge.to_keras(make_model(η))` is the same network in Keras with the *same initial
        weights* (and the same optimizer and loss): Keras's own initialisers would draw different
        numbers, and the curves could not be compared step by step. Training is Keras's own `fit`,
        with `keras.callbacks.LambdaCallback` as the clock. (TensorFlow may print a few start-up
        lines about oneDNN or CUDA on stderr: they are harmless.)
    """),
    code("""
        import keras
        import keras_bridge

        keras.config.set_floatx("float64")       # refnn trains in float64; Keras would round the data to float32
        keras.utils.set_random_seed(0)
        keras_runs = {}
        for label, (batch_size, learning_rate) in batch_sizes.items():
            kmodel = keras_bridge.to_keras(make_model(learning_rate))
            seconds, start = [], time.perf_counter()
            clock = keras.callbacks.LambdaCallback(
                on_epoch_end=lambda epoch, logs: seconds.append(time.perf_counter() - start))
            khistory = kmodel.fit(x_train, y_train, epochs=EPOCHS, batch_size=batch_size, shuffle=False,
                                  callbacks=[clock], verbose=0)
            keras_runs[label] = (khistory.history["loss"], seconds)
            gap = np.max(np.abs(np.array(refnn_runs[label][0]) - khistory.history["loss"]))
            print(f"{label:18s} final loss {khistory.history['loss'][-1]:.4f}  in {seconds[-1]:.2f} s"
                  f"   max |refnn − Keras| over the curve: {gap:.1e}")
    """),
    code("""
        fig, (by_epoch, by_time) = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
        for color, label in zip(["C0", "C1", "C2"], batch_sizes):
            for runs, style, side in [(refnn_runs, "-", "refnn"), (keras_runs, ":", "Keras")]:
                loss, seconds = runs[label]
                width = 3 if side == "Keras" else 1.5
                by_epoch.plot(range(1, EPOCHS + 1), loss, style, color=color, linewidth=width, label=f"{label}, {side}")
                by_time.plot(seconds, loss, style, color=color, linewidth=width, label=f"{label}, {side}")
        by_epoch.set_xlabel("epoch")
        by_epoch.set_ylabel("training loss (crossentropy)")
        by_epoch.set_title("loss against epochs")
        by_time.set_xlabel("seconds (wall clock, this machine)")
        by_time.set_xscale("log")
        by_time.set_title("loss against seconds")
        by_time.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
        for ax in (by_epoch, by_time):
            ax.grid(alpha=0.3)
        plt.show()
    """),
    md(r"""
        ## Per epoch and per second

        The same loss, read two ways: after how many *epochs* and after how many *seconds* each run
        first reached the loss that every run reaches (the highest of the final losses).
    """),
    code("""
        target = max(loss[-1] for runs in (refnn_runs, keras_runs) for loss, _ in runs.values())
        print(f"first epoch, and seconds, at which the training loss is ≤ {target:.3f}")
        print(f"{'':18s} {'epoch':>6s} {'refnn s':>9s} {'Keras s':>9s}")
        for label in batch_sizes:
            epoch = next(i for i, value in enumerate(refnn_runs[label][0]) if value <= target)
            keras_epoch = next(i for i, value in enumerate(keras_runs[label][0]) if value <= target)
            print(f"{label:18s} {epoch + 1:6d} {refnn_runs[label][1][epoch]:9.3f} "
                  f"{keras_runs[label][1][keras_epoch]:9.3f}")
    """),
    md(r"""
        The curves against epochs are the same in refnn and Keras (same weights, same batches, float64):
        the algorithm is the same. Against seconds they differ: that is the cost of a step in each
        framework, not the mathematics (Keras's first epoch also includes compiling its training step
        into a TensorFlow graph: compare its first point with the next ones).

        Questions for the table and the plots: which batch size needs the fewest epochs? Which needs
        the fewest seconds in refnn, and which in Keras — the same one? Why would a step's fixed
        cost favour large batches in one framework more than in the other?
    """),
]
