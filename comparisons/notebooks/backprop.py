"""Notebook: the dense layer's forward pass and its three backward steps on a 2×3 input.

    Z = X W + B,  Y = f(Z),  E = (1/(N·D)) Σ (Y − T)²,  dY = 2(Y − T)/(N·D)
    STEP 1  dZ = f′(Z) ⊙ dY      STEP 2  dW = Xᵀ dZ      STEP 3  dB = Σₙ dZₙ      dX = dZ Wᵀ

By hand in NumPy, by refnn's layer (``layer.X, Z, Y, dZ``), by ``refnn.graph.trace`` and by
TensorFlow's ``GradientTape`` on a ``keras.layers.Dense`` given the same W and B (plain Keras:
``set_weights``); then the same descent steps in refnn's ``fit`` and Keras's ``fit``.
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Backpropagation through one dense layer"

CELLS = [
    md(r"""
        # Backpropagation through one dense layer

        **Forward:** $Z = XW + B$, $\quad Y = f(Z)$, $\quad E = \frac{1}{N D}\sum (Y - T)^2$

        **Backward**, from $dY = \partial E/\partial Y = 2(Y - T)/(N D)$:

        | step | formula |
        |---|---|
        | STEP 1 | $dZ = f'(Z) \odot dY$ (sigmoid: $f'(Z) = Y(1 - Y)$) |
        | STEP 2 | $dW = X^\top dZ$ |
        | STEP 3 | $dB = \sum_n dZ_n$ |
        | to the layer below | $dX = dZ\, W^\top$ |

        One `Dense(2, activation="sigmoid")` layer on a 2×3 input, worked four ways: by hand in NumPy,
        by refnn's layer, by refnn's computation graph, and by TensorFlow's automatic differentiation —
        number for number.
    """),
    setup_code("""
        X = np.array([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0]])   # N = 2 samples, 3 features
        T = np.array([[1.0, 0.0], [0.0, 1.0]])               # targets, D = 2 outputs
        N, D = T.shape
    """),
    md(r"""
        ## refnn: the layer keeps the lecture's arrays

        `model.loss_and_gradients(X, T)` runs the forward and the backward pass once and returns the loss
        and the gradients (`"dense_0/kernel"` is dW, `"dense_0/bias"` is dB). The layer keeps what it
        computed: `layer.X`, `layer.Z`, `layer.Y` and `layer.dZ`; `model.input_gradients` holds dX.
    """),
    code("""
        model = refnn.Sequential(
            [layers.Dense(2, activation="sigmoid", bias_initializer=refnn.initializers.RandomNormal(0.0, 0.5, seed=1))],
            input_dim=3, seed=0, dtype="float64")
        model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
        W0, B0 = model.get_weights()            # W: (3, 2), B: (2,) — kept for Keras below

        E, grads = model.loss_and_gradients(X, T)
        dense = model.layers[0]
        print("Z = XW + B =\\n", dense.Z)
        print("Y = σ(Z) =\\n", dense.Y)
        print("E =", E)
        print("dZ =\\n", dense.dZ)
        print("dW =\\n", grads["dense_0/kernel"])
        print("dB =", grads["dense_0/bias"])
    """),
    md(r"""
        ## The same by hand

        Every line below is one line of the lecture. The largest difference from refnn's arrays is
        rounding (≈ 1e-16): refnn's `backward` *is* these formulas.
    """),
    code("""
        Z = X @ W0 + B0
        Y = 1 / (1 + np.exp(-Z))
        dY = 2 * (Y - T) / (N * D)        # ∂E/∂Y of the mean squared error (mean over N·D entries)
        dZ = Y * (1 - Y) * dY             # STEP 1: σ′(Z) ⊙ dY
        dW = X.T @ dZ                     # STEP 2
        dB = dZ.sum(axis=0)               # STEP 3
        dX = dZ @ W0.T                    # what the layer below receives

        by_hand = {"Z": (Z, dense.Z), "Y": (Y, dense.Y), "dZ": (dZ, dense.dZ),
                   "dW": (dW, grads["dense_0/kernel"]), "dB": (dB, grads["dense_0/bias"]),
                   "dX": (dX, model.input_gradients["dense_0"])}
        for name, (mine, refnns) in by_hand.items():
            print(f"{name:3s} max |by hand − refnn| = {np.max(np.abs(mine - refnns)):.1e}")
        assert all(np.max(np.abs(a - b)) < 1e-12 for a, b in by_hand.values())
    """),
    md(r"""
        ## The computation graph

        `refnn.graph.trace(model, X, T)` rebuilds the forward pass as a graph of small operations
        (matmul, add, sigmoid, the loss), each with its own derivative. `backward()` walks it from the
        loss down: every node's gradient is the chain rule applied once more. Values are drawn in
        green above each node, gradients in red below.
    """),
    code("""
        from IPython.display import SVG, display

        g = refnn.graph.trace(model, X, T)
        g.backward()
        print(f"dZ: max |graph − layer| = {np.max(np.abs(g['dense_0/Z'].grad - dense.dZ)):.1e}")
        print(f"dW: max |graph − layer| = {np.max(np.abs(g.grads['dense_0/kernel'] - grads['dense_0/kernel'])):.1e}")
        display(SVG(g.to_svg()))
    """),
    md(r"""
        ## Keras and TensorFlow: the same numbers by automatic differentiation

        Plain Keras: a `keras.layers.Dense(2)` given refnn's initial W and B with `set_weights` (the
        point is the same numbers; building it from the same seed would not do, Keras draws its random
        numbers differently). The sigmoid and the loss are written out so that `GradientTape` can
        hand us dZ as well as dW and dB. `keras.config.set_floatx("float64")` first: refnn works in
        float64 here, and Keras would otherwise round everything to float32.
    """),
    code("""
        import keras
        import tensorflow as tf

        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        linear = keras.layers.Dense(2)                  # Z = XW + B (the sigmoid comes next)
        linear.build((None, 3))
        linear.set_weights([W0, B0])

        with tf.GradientTape() as tape:
            Zk = linear(X)
            Yk = keras.activations.sigmoid(Zk)
            Ek = keras.losses.MeanSquaredError()(T, Yk)
        dZk, dWk, dBk = tape.gradient(Ek, [Zk, linear.kernel, linear.bias])

        keras_side = {"Y": (Yk, dense.Y), "E": (Ek, E), "dZ": (dZk, dense.dZ),
                      "dW": (dWk, grads["dense_0/kernel"]), "dB": (dBk, grads["dense_0/bias"])}
        for name, (tfs, refnns) in keras_side.items():
            print(f"{name:3s} max |TensorFlow − refnn| = {np.max(np.abs(np.asarray(tfs) - refnns)):.1e}")
        assert all(np.max(np.abs(np.asarray(a) - b)) < 1e-12 for a, b in keras_side.values())
    """),
    md(r"""
        ## Gradient descent: $W \leftarrow W - \eta\, dW$, $B \leftarrow B - \eta\, dB$

        Twenty full-batch steps with η = 0.5: refnn's `fit` and Keras's `fit` from the same W and B
        (`shuffle=False`; with one batch per epoch the order would not matter anyway). Each epoch's
        loss is computed with the weights *before* that epoch's step, on both sides.
    """),
    code("""
        model.set_weights([W0, B0])
        history = model.fit(X, T, epochs=20, batch_size=N, shuffle=False, verbose=0)

        kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="sigmoid")])
        kmodel.set_weights([W0, B0])
        kmodel.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
        khistory = kmodel.fit(X, T, epochs=20, batch_size=N, shuffle=False, verbose=0)

        gap = np.max(np.abs(np.array(history.history["loss"]) - khistory.history["loss"]))
        print(f"loss curves: max |refnn − Keras| = {gap:.1e}")
        print(f"final W: max |refnn − Keras| = {np.max(np.abs(model.get_weights()[0] - kmodel.get_weights()[0])):.1e}")
    """),
    code("""
        fig, ax = plt.subplots(figsize=(6, 3.5))
        ax.plot(history.history["loss"], "-", color="C0", label="refnn")
        ax.plot(khistory.history["loss"], ":", color="C0", linewidth=3, label="Keras")
        ax.set_xlabel("step (epoch, one full batch)")
        ax.set_ylabel("loss E (mean squared error)")
        ax.set_title("Gradient descent on one dense layer, η = 0.5")
        ax.legend()
        plt.show()
    """),
]
