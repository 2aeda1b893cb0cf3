"""Notebook: weight initialisation — symmetry, saturation, and Glorot vs He layer by layer.

    zero weights: every hidden unit computes the same thing and receives the same gradient, forever
    large weights: |Z| ≫ 1 ⇒ tanh′(Z) = 1 − tanh²(Z) ≈ 0 ⇒ dZ = f′(Z) ⊙ dY ≈ 0
    Glorot: Var W = 2/(fan_in + fan_out)  (tanh)        He: Var W = 2/fan_in  (ReLU halves the variance)

The zero-initialised network is plain Keras (zeros are zeros in any framework); the random ones
go to Keras with ``keras_bridge.to_keras`` so that both sides hold the same numbers. The setup cell
reads ``REFNN_NOTEBOOK_EPOCHS`` (20) and ``REFNN_NOTEBOOK_ROWS`` (500 images).
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Weight initialisation: symmetry, saturation, Glorot and He"

CELLS = [
    md(r"""
        # Weight initialisation: symmetry, saturation, Glorot and He

        1. **Zero weights stay symmetric.** If every weight starts equal, every hidden unit computes the
           same output and receives the same gradient $dW = X^\top dZ$: they stay identical forever.
           (With all weights zero, tanh's outputs are 0 and no kernel gradient reaches the layers at all.)
        2. **Large weights saturate.** $|Z| \gg 1$ puts tanh in its flat tails, $\tanh'(Z) = 1 - \tanh^2 Z
           \approx 0$, and STEP 1 of backpropagation $dZ = f'(Z) \odot dY$ wipes out the gradient.
        3. **Glorot vs He.** To keep the variance of the activations from layer to layer:
           Glorot $\mathrm{Var}\,W = 2/(\text{fan}_{in} + \text{fan}_{out})$ (for tanh, sigmoid);
           He $\mathrm{Var}\,W = 2/\text{fan}_{in}$ (for ReLU, which zeroes half of its inputs).
    """),
    setup_code("""
        from sklearn.datasets import load_digits

        EPOCHS = int(os.environ.get("REFNN_NOTEBOOK_EPOCHS", 20))   # the lesson's size; the tests run it smaller
        ROWS = int(os.environ.get("REFNN_NOTEBOOK_ROWS", 500))
        digits = load_digits()                       # bundled with scikit-learn
        x = digits.data[:ROWS] / 16.0                # ROWS images, pixels in [0, 1]
        y = np.eye(10)[digits.target[:ROWS]]         # one-hot labels
    """),
    md(r"""
        ## 1. Zero weights: refnn

        A 64-16-10 network, `kernel_initializer="zeros"` in both layers, against the default
        Glorot-uniform one. After training, the *spread* of the hidden units' incoming weights
        (the largest difference between two units' columns of W) tells whether they ever became different.
    """),
    code("""
        def make_model(kernel_initializer):
            model = refnn.Sequential([layers.Dense(16, activation="tanh", kernel_initializer=kernel_initializer),
                                      layers.Dense(10, activation="softmax", kernel_initializer=kernel_initializer)],
                                     input_dim=64, seed=0, dtype="float64")
            model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy")
            return model


        def spread(kernel):
            return np.max(np.abs(kernel - kernel[:, :1]))   # 0 when every column (hidden unit) is the same


        refnn_runs = {}
        for init in ["zeros", "glorot_uniform"]:
            model = make_model(init)
            history = model.fit(x, y, epochs=EPOCHS, batch_size=32, shuffle=False, verbose=0)
            refnn_runs[init] = history.history["loss"]
            print(f"{init:15s} final loss {history.history['loss'][-1]:.3f}   "
                  f"spread of the hidden units' weights: {spread(model.get_weights()[0]):.3g}")
    """),
    md(r"""
        ## 1. Zero weights: Keras

        Plain Keras with `kernel_initializer="zeros"`: zeros are zeros in every framework, so this
        network starts exactly where refnn's did. The Glorot network is handed over with
        `keras_bridge.to_keras` instead: Keras's Glorot draws *different* random numbers, and the
        point here is the same starting weights. (TensorFlow may print a few start-up lines about
        oneDNN or CUDA on stderr: they are harmless.)
    """),
    code("""
        import keras
        import keras_bridge

        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        zero_net = keras.Sequential([keras.Input((64,)),
                                     keras.layers.Dense(16, activation="tanh", kernel_initializer="zeros"),
                                     keras.layers.Dense(10, activation="softmax", kernel_initializer="zeros")])
        zero_net.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="categorical_crossentropy")
        glorot_net = keras_bridge.to_keras(make_model("glorot_uniform"))

        keras_runs = {}
        for init, kmodel in [("zeros", zero_net), ("glorot_uniform", glorot_net)]:
            khistory = kmodel.fit(x, y, epochs=EPOCHS, batch_size=32, shuffle=False, verbose=0)
            keras_runs[init] = khistory.history["loss"]
            gap = np.max(np.abs(np.array(refnn_runs[init]) - khistory.history["loss"]))
            print(f"{init:15s} final loss {khistory.history['loss'][-1]:.3f}   "
                  f"spread: {spread(kmodel.get_weights()[0]):.3g}   max |refnn − Keras| over the curve: {gap:.1e}")
    """),
    code("""
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for color, init in zip(["C3", "C0"], refnn_runs):
            ax.plot(range(1, EPOCHS + 1), refnn_runs[init], "-", color=color, label=f"{init}, refnn")
            ax.plot(range(1, EPOCHS + 1), keras_runs[init], ":", color=color, linewidth=3, label=f"{init}, Keras")
        ax.set_xlabel("epoch")
        ax.set_ylabel("training loss (crossentropy)")
        ax.set_title("zero weights never learn features")
        ax.legend()
        plt.show()
    """),
    md(r"""
        ## 2. Large weights saturate tanh: refnn

        The same first layer with weights drawn from $\mathcal N(0, \sigma^2)$ for three σ. We look at
        its outputs $H = \tanh(Z)$ on the `ROWS` images and at the mean of $\tanh'(Z) = 1 - H^2$, the
        factor STEP 1 multiplies every gradient by.
    """),
    code("""
        sigmas = [0.1, 1.0, 5.0]
        saturation_models, refnn_h = {}, {}
        for sigma in sigmas:
            model = refnn.Sequential([layers.Dense(64, activation="tanh",
                                                   kernel_initializer=refnn.initializers.RandomNormal(0.0, sigma))],
                                     input_dim=64, seed=0, dtype="float64")
            saturation_models[sigma] = model
            refnn_h[sigma] = model.predict(x)
            print(f"σ = {sigma:3}:  share of |H| > 0.99: {np.mean(np.abs(refnn_h[sigma]) > 0.99):5.1%}   "
                  f"mean tanh′(Z): {np.mean(1 - refnn_h[sigma] ** 2):.3f}")
    """),
    md("""
        ## 2. Keras: the same layers, the same numbers

        `keras_bridge.to_keras` gives each layer to Keras with the same weights; calling the Keras
        model on the images gives the same activations.
    """),
    code("""
        keras_h = {sigma: np.asarray(keras_bridge.to_keras(model)(x)) for sigma, model in saturation_models.items()}
        for sigma in sigmas:
            print(f"σ = {sigma:3}:  max |refnn − Keras| = {np.max(np.abs(refnn_h[sigma] - keras_h[sigma])):.1e}")
        assert all(np.max(np.abs(refnn_h[s] - keras_h[s])) < 1e-12 for s in sigmas)
    """),
    code("""
        fig, ax = plt.subplots(figsize=(7, 3.5))
        bins = np.linspace(-1, 1, 41)
        for color, sigma in zip(["C0", "C1", "C3"], sigmas):
            ax.hist(refnn_h[sigma].ravel(), bins=bins, histtype="step", color=color, linewidth=1.5,
                    density=True, label=f"σ = {sigma}, refnn")
            ax.hist(keras_h[sigma].ravel(), bins=bins, histtype="step", color=color, linewidth=3, linestyle=":",
                    density=True, label=f"σ = {sigma}, Keras")
        ax.set_xlabel("hidden activation H = tanh(Z)")
        ax.set_ylabel("density")
        ax.set_yscale("log")
        ax.set_title("large weights push tanh into its flat tails")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
        plt.show()
    """),
    md(r"""
        ## 3. Glorot vs He, layer by layer: refnn

        Eight hidden layers of 64 units. We feed the images forward and measure the standard deviation
        of each layer's output $Y$ (refnn keeps it: `layer.Y`). ReLU with Glorot loses about a factor
        $\sqrt 2$ per layer; He's extra factor 2 in the variance compensates it; tanh with Glorot stays
        roughly level.
    """),
    code("""
        setups = {"ReLU, Glorot uniform": ("relu", "glorot_uniform"),
                  "ReLU, He normal": ("relu", "he_normal"),
                  "tanh, Glorot uniform": ("tanh", "glorot_uniform")}
        deep_models, refnn_std = {}, {}
        for label, (activation, init) in setups.items():
            model = refnn.Sequential([layers.Dense(64, activation=activation, kernel_initializer=init)
                                      for _ in range(8)], input_dim=64, seed=0, dtype="float64")
            model.predict(x)
            deep_models[label] = model
            refnn_std[label] = [np.std(layer.Y) for layer in model.layers]
            print(f"{label:22s}", np.round(refnn_std[label], 3))
    """),
    md("""
        ## 3. Keras: the same networks

        The Keras twins (`keras_bridge.to_keras`, same weights); each Keras layer is called in turn to
        read its output.
    """),
    code("""
        keras_std = {}
        for label, model in deep_models.items():
            h, keras_std[label] = x, []
            for klayer in keras_bridge.to_keras(model).layers:
                h = klayer(h)
                keras_std[label].append(float(np.std(h)))
            gap = np.max(np.abs(np.array(refnn_std[label]) - keras_std[label]))
            print(f"{label:22s} max |refnn − Keras| over the layers: {gap:.1e}")
    """),
    code("""
        fig, ax = plt.subplots(figsize=(6, 3.5))
        depth = range(1, 9)
        for color, label in zip(["C3", "C0", "C2"], setups):
            ax.plot(depth, refnn_std[label], "-o", color=color, label=f"{label}, refnn")
            ax.plot(depth, keras_std[label], ":", color=color, linewidth=3, label=f"{label}, Keras")
        ax.set_xlabel("layer")
        ax.set_ylabel("std of the layer's output")
        ax.set_yscale("log")
        ax.set_title("activations through 8 layers")
        ax.legend(fontsize=8)
        plt.show()
    """),
]
