"""Notebook: overfitting on 100 digits and its cures, refnn beside Keras.

    E = data loss + penalty:  L2  λ Σ W²  (∂/∂W = 2λW)      L1  λ Σ |W|  (∂/∂W = λ sign W)
    dropout (inverted): H ← H ⊙ M / (1 − p), M ~ Bernoulli(1 − p), training only
    early stopping: stop when val_loss has not improved for `patience` epochs, keep the best weights

A 64-128-10 ReLU network (Adam) on 100 training images, validated on 300: plain, L2, L1, dropout, early
stopping, a smaller network. Keras trains ``keras_bridge.to_keras`` twins (same initial weights,
``shuffle=False`` on both sides); the dropout masks are the one thing the two sides draw apart.
The setup cell reads ``REFNN_NOTEBOOK_EPOCHS`` (40); the epoch at which the large network's
validation loss is lowest is printed from the run.
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Overfitting and its cures"

CELLS = [
    md(r"""
        # Overfitting and its cures

        A network with far more weights than training examples can fit the training set perfectly
        and still predict new data badly: the training loss keeps falling, the validation loss turns up.
        The cures, each a change to what is minimised or to how long:

        - **L2** (weight decay): $E = E_{data} + \lambda \sum W^2$, so $\partial E/\partial W$ gains $2\lambda W$
        - **L1**: $E = E_{data} + \lambda \sum \lvert W\rvert$, so $\partial E/\partial W$ gains
          $\lambda\, \mathrm{sign}\, W$
        - **dropout**: in training, each hidden output is kept with probability $1 - p$ and scaled by
          $1/(1 - p)$
        - **early stopping**: stop when `val_loss` has not improved for `patience` epochs; keep the best
          weights
        - **a smaller network**: fewer weights to fit the noise with
    """),
    setup_code("""
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        digits = load_digits()                                # bundled with scikit-learn
        x, y = digits.data / 16.0, np.eye(10)[digits.target]
        x_train, x_val, y_train, y_val = train_test_split(x, y, train_size=100, test_size=300, random_state=0)
        EPOCHS = int(os.environ.get("REFNN_NOTEBOOK_EPOCHS", 40))   # the lesson's size; the tests run it smaller
    """),
    md(r"""
        ## refnn

        One function builds every variant from the same seed, so they all start from the same
        weights (the smaller network excepted). `fit(..., validation_data=(x_val, y_val))` records
        `val_loss` and `val_accuracy` each epoch, as Keras does.
    """),
    code("""
        def make_model(units=128, regularizer=None, dropout=0.0):
            stack = [layers.Dense(units, activation="relu", kernel_regularizer=regularizer)]
            if dropout:
                stack.append(layers.Dropout(dropout))
            stack.append(layers.Dense(10, activation="softmax", kernel_regularizer=regularizer))
            model = refnn.Sequential(stack, input_dim=64, seed=0, dtype="float64")
            # keras_float32_constants: round Adam's β in βᵗ through float32 as Keras does, so that the two
            # sides below agree to the last digits (without it they differ by ~1e-7)
            model.compile(optimizer=optimizers.Adam(learning_rate=0.01, keras_float32_constants=True),
                          loss="categorical_crossentropy", metrics=["accuracy"])
            return model


        variants = {
            "large network": dict(),
            "L2, λ = 0.001": dict(regularizer=refnn.regularizers.L2(1e-3)),
            "L1, λ = 0.0003": dict(regularizer=refnn.regularizers.L1(3e-4)),
            "dropout p = 0.5": dict(dropout=0.5),
            "early stopping": dict(),
            "smaller network (16)": dict(units=16),
        }
        refnn_histories, refnn_models = {}, {}
        for label, options in variants.items():
            stop = [callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)] \\
                if label == "early stopping" else []
            model = make_model(**options)
            history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, shuffle=False,
                                validation_data=(x_val, y_val), callbacks=stop, verbose=0)
            refnn_histories[label], refnn_models[label] = history.history, model
            h = history.history
            print(f"{label:22s} {len(h['loss']):3d} epochs   train loss {h['loss'][-1]:.3f}   "
                  f"val loss {h['val_loss'][-1]:.3f}   val accuracy {h['val_accuracy'][-1]:.3f}")

        plain = refnn_histories["large network"]
        turn = int(np.argmin(plain["val_loss"])) + 1        # the epoch of the lowest validation loss
        print(f"large network: val_loss is lowest at epoch {turn} ({plain['val_loss'][turn - 1]:.3f}), "
              f"{plain['val_loss'][-1]:.3f} after epoch {EPOCHS}; train loss {plain['loss'][-1]:.4f}")
    """),
    md(r"""
        `loss` and `val_loss` include the penalty for L1 and L2 (Keras's convention too), so compare
        the *gap* between the two curves and the validation accuracy rather than the raw values.

        ## Keras

        `keras_bridge.to_keras(make_model(...))` is each variant in Keras with the same initial weights,
        optimizer, loss and metrics; Keras's own `fit` trains it, with Keras's own `EarlyStopping`
        (refnn's follows the same rules). Two differences to expect: dropout's random masks (Keras
        draws them with TensorFlow's generator), and ≈1e-8 for L1 and L2, whose factor Keras keeps
        in float32. (TensorFlow may print a few start-up lines about oneDNN or CUDA on stderr: they are
        harmless.)
    """),
    code("""
        import keras
        import keras_bridge

        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        keras_histories = {}
        for label, options in variants.items():
            stop = [keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)] \\
                if label == "early stopping" else []
            kmodel = keras_bridge.to_keras(make_model(**options))
            khistory = kmodel.fit(x_train, y_train, epochs=EPOCHS, batch_size=32, shuffle=False,
                                  validation_data=(x_val, y_val), callbacks=stop, verbose=0)
            keras_histories[label] = khistory.history
            mine, theirs = refnn_histories[label]["val_loss"], khistory.history["val_loss"]
            n = min(len(mine), len(theirs))
            print(f"{label:22s} {len(theirs):3d} epochs   "
                  f"max |refnn − Keras| of val_loss: {np.max(np.abs(np.subtract(mine[:n], theirs[:n]))):.1e}")
    """),
    code("""
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True, sharey=True)
        for ax, label in zip(axes.flat, variants):
            for key, color, name in [("loss", "C0", "training"), ("val_loss", "C1", "validation")]:
                ax.plot(range(1, len(refnn_histories[label][key]) + 1), refnn_histories[label][key], "-",
                        color=color, label=f"{name}, refnn")
                ax.plot(range(1, len(keras_histories[label][key]) + 1), keras_histories[label][key], ":",
                        color=color, linewidth=3, label=f"{name}, Keras")
            ax.set_title(label)
            ax.set_ylim(0, 1.2)              # the start (2.3) is cut off: the end is what matters
            ax.grid(alpha=0.3)
        for ax in axes[1]:
            ax.set_xlabel("epoch")
        for ax in axes[:, 0]:
            ax.set_ylabel("loss (crossentropy + penalty)")
        axes[0, 0].legend(fontsize=8)
        plt.show()
    """),
    code("""
        print(f"{'refnn, final weights':22s} {'penalty':>8s} {'val crossentropy':>17s} {'val accuracy':>13s}")
        for label, model in refnn_models.items():
            scores, penalty = model.evaluate(x_val, y_val, return_dict=True, verbose=0), model.regularization_loss()
            print(f"{label:22s} {penalty:8.3f} {scores['loss'] - penalty:17.3f} {scores['accuracy']:13.3f}")
    """),
    md(r"""
        The large network drives its training loss towards zero while its validation loss passes a
        minimum (the epoch printed after the refnn runs) and then rises: it memorises the 100 images.
        The table scores the *final* weights (the best ones for early stopping, which restores them) by
        the validation crossentropy alone, the penalty taken out: that is the number the cures are
        meant to lower. Shrinking the network is the bluntest cure: it takes away the capacity to
        memorise and, with it, some of the capacity to fit the digits, so compare its validation
        accuracy with the large network's as well as its crossentropy. The penalties, dropout and early
        stopping keep the capacity and restrain it instead. Which cure wins depends on the data and the
        sizes: measure it, as here.
    """),
]
