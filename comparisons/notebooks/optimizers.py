"""Notebook: the optimizers' paths on an ill-conditioned 2-D quadratic, refnn beside Keras.

    E(w) = ½(w₁² + 20 w₂²),  ∇E = (w₁, 20 w₂)
    SGD  w ← w − η g          momentum (textbook EMA)  V ← μV + (1 − μ)g, w ← w − η_ema V
    Keras's velocity  m ← μm − η_keras g, w ← w + m   — the same path when η_keras = η_ema(1 − μ)
    RMSprop  s ← ρs + (1 − ρ)g², w ← w − η g/√(s + ε)            (Keras; textbook g/(√s + ε))
    Adam     w ← w − η m̂/(√v̂ + ε̂), ε̂ = ε/√(1 − β₂ᵗ)              (Keras's ε on √v; textbook m̂/(√v̂ + ε))
    Adagrad  s₀ = 0.1, s ← s + g², w ← w − η g/√(s + ε)         (Keras; textbook s₀ = 0, g/(√s + ε))
    Rprop    w ← w − sign(g)·Δ, Δ ×1.2 while the sign holds, ×0.5 when it flips

refnn's optimizers step a plain ``{"w": array}`` with ``optimizer.apply``; Keras's step a
``keras.Variable`` with ``optimizer.apply`` (Rprop from ``keras_bridge.plugins``: stock Keras has
none). Both start at the same point and see the same gradients.
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Optimizers on an ill-conditioned quadratic"

CELLS = [
    md(r"""
        # Optimizers on an ill-conditioned quadratic

        $E(w) = \tfrac12 (w_1^2 + 20\, w_2^2)$: the valley is 20 times steeper across than along, the
        shape that makes plain gradient descent zig-zag. With $g = \nabla E(w)$:

        - **SGD**: $w \leftarrow w - \eta g$
        - **momentum, textbook (EMA)**: $V \leftarrow \mu V + (1 - \mu) g$, $\; w \leftarrow w - \eta_{ema} V$
        - **momentum, Keras (velocity)**: $m \leftarrow \mu m - \eta_{keras} g$, $\; w \leftarrow w + m$ —
          the same path when $\eta_{keras} = \eta_{ema}(1 - \mu)$
        - **RMSprop**: $s \leftarrow \rho s + (1 - \rho) g^2$, $\; w \leftarrow w - \eta\, g / \sqrt{s + \epsilon}$
          (ε inside the root, as Keras computes it; the textbook and PyTorch put it outside:
          $g / (\sqrt{s} + \epsilon)$)
        - **Adam**: $m \leftarrow \beta_1 m + (1 - \beta_1) g$, $\; v \leftarrow \beta_2 v + (1 - \beta_2) g^2$,
          $\; w \leftarrow w - \eta\, \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t} \cdot \frac{m}{\sqrt{v} + \epsilon}$
          (Keras: ε added to $\sqrt v$). With the bias-corrected $\hat m = m/(1 - \beta_1^t)$,
          $\hat v = v/(1 - \beta_2^t)$ that is $w \leftarrow w - \eta\, \hat m / (\sqrt{\hat v} + \hat\epsilon)$ with
          $\hat\epsilon = \epsilon / \sqrt{1 - \beta_2^t}$; the textbook (Algorithm 1, PyTorch) adds ε itself:
          $\hat m / (\sqrt{\hat v} + \epsilon)$
        - **Adagrad**: $s_0 = 0.1$, $\; s \leftarrow s + g^2$, $\; w \leftarrow w - \eta\, g / \sqrt{s + \epsilon}$
          (Keras; the textbook and PyTorch start at $s_0 = 0$ and use $g / (\sqrt{s} + \epsilon)$)
        - **Rprop**: each coordinate moves by its own step $\Delta$ against the sign of $g$; $\Delta$ grows ×1.2
          while that sign holds and halves when it flips

        With Keras's defaults ε = 10⁻⁷, ρ = 0.9, β₁ = 0.9, β₂ = 0.999. These are the forms both cells
        below compute: refnn's defaults follow Keras. The textbook forms are a switch away in refnn:
        `RMSprop(epsilon_placement="outside_sqrt")`, `Adam(epsilon_placement="sqrt_v_hat")`,
        `Adagrad(initial_accumulator_value=0.0, epsilon_placement="outside_sqrt")`.
    """),
    setup_code("""
        A = np.array([1.0, 20.0])                 # E(w) = ½ Σ A_i w_i²
        w_start = np.array([-4.0, 1.5])
        STEPS = 60


        def loss(w):
            return 0.5 * np.sum(A * w * w)


        def gradient(w):
            return A * w
    """),
    md(r"""
        ## refnn

        A refnn optimizer updates any dictionary of arrays in place: `optimizer.apply(params, grads)`.
        The momentum run uses the textbook EMA form (`momentum_form="ema"`) with $\eta_{ema} = 0.2$, $\mu = 0.7$.
        `keras_float32_constants=True` rounds the few constants Keras keeps in float32 even in a
        float64 model (the momentum, Adam's β in $\beta^t$, Adagrad's initial accumulator), so that the
        comparison below is exact; the paths are the same to ~1e-7 without it.
    """),
    code("""
        MU = 0.7
        like_keras = {"keras_float32_constants": True}
        refnn_optimizers = {
            "SGD η=0.09": optimizers.SGD(0.09, **like_keras),
            "momentum (EMA) η=0.2, μ=0.7": optimizers.SGD(0.2, momentum=MU, momentum_form="ema", **like_keras),
            "RMSprop η=0.1": optimizers.RMSprop(0.1, **like_keras),
            "Adam η=0.3": optimizers.Adam(0.3, **like_keras),
            "Adagrad η=1": optimizers.Adagrad(1.0, **like_keras),
            "Rprop Δ₀=0.1": optimizers.Rprop(learning_rate=0.1, **like_keras),
        }


        def refnn_path(optimizer):
            w = w_start.copy()
            path = [w.copy()]
            for _ in range(STEPS):
                optimizer.apply({"w": w}, {"w": gradient(w)}, loss=loss(w))
                path.append(w.copy())
            return np.array(path)


        refnn_paths = {label: refnn_path(opt) for label, opt in refnn_optimizers.items()}
        for label, path in refnn_paths.items():
            print(f"{label:28s} E after {STEPS} steps: {loss(path[-1]):.2e}")
    """),
    md(r"""
        ## Keras

        Plain Keras: each optimizer steps a `keras.Variable` with `optimizer.apply([gradient], [variable])`.
        The momentum run is Keras's velocity form with $\eta_{keras} = \eta_{ema}(1 - \mu) = 0.06$ (with
        the μ Keras actually uses, 0.7 rounded to float32: the paths then agree to the last digits). Stock
        Keras has no Rprop; `keras_bridge.plugins.Rprop` is a Keras optimizer with refnn's rule.
        (TensorFlow may print a few start-up lines about oneDNN or CUDA on stderr: they are harmless.)
    """),
    code("""
        import keras
        import keras_bridge

        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        mu_keras = float(np.float32(MU))      # Keras keeps μ in float32 even in float64: 0.7 → 0.69999999
        keras_optimizers = {
            "SGD η=0.09": keras.optimizers.SGD(0.09),
            "momentum (EMA) η=0.2, μ=0.7": keras.optimizers.SGD(0.2 * (1 - mu_keras), momentum=MU),
            "RMSprop η=0.1": keras.optimizers.RMSprop(0.1),
            "Adam η=0.3": keras.optimizers.Adam(0.3),
            "Adagrad η=1": keras.optimizers.Adagrad(1.0),
            "Rprop Δ₀=0.1": keras_bridge.plugins.Rprop(learning_rate=0.1),
        }


        def keras_path(optimizer):
            w = keras.Variable(w_start.copy())
            path = [w.numpy().copy()]
            for _ in range(STEPS):
                optimizer.apply([gradient(w.numpy())], [w])
                path.append(w.numpy().copy())
            return np.array(path)


        keras_paths = {label: keras_path(opt) for label, opt in keras_optimizers.items()}
        for label in keras_paths:
            gap = np.max(np.abs(refnn_paths[label] - keras_paths[label]))
            print(f"{label:28s} max |refnn − Keras| over the path: {gap:.1e}")
        assert all(np.max(np.abs(refnn_paths[k] - keras_paths[k])) < 1e-10 for k in keras_paths)
    """),
    code("""
        w1, w2 = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-2.0, 2.0, 200))
        surface = 0.5 * (A[0] * w1**2 + A[1] * w2**2)
        fig, axes = plt.subplots(2, 3, figsize=(13, 6.5), sharex=True, sharey=True)
        for ax, (color, label) in zip(axes.flat, enumerate(refnn_paths)):
            ax.contour(w1, w2, surface, levels=np.geomspace(0.05, 60, 12), colors="0.75", linewidths=0.8)
            ax.plot(*refnn_paths[label].T, "-", color=f"C{color}", label="refnn")
            ax.plot(*keras_paths[label].T, ":", color=f"C{color}", linewidth=3, label="Keras")
            ax.plot(0, 0, "k*", markersize=10)
            ax.set_title(label)
        for ax in axes[1]:
            ax.set_xlabel("w₁")
        for ax in axes[:, 0]:
            ax.set_ylabel("w₂")
        axes[0, 0].legend(loc="lower right")
        plt.show()
    """),
    code("""
        fig, ax = plt.subplots(figsize=(8, 4))
        for color, label in enumerate(refnn_paths):
            ax.plot([loss(w) for w in refnn_paths[label]], "-", color=f"C{color}", label=f"{label}, refnn")
            ax.plot([loss(w) for w in keras_paths[label]], ":", color=f"C{color}", linewidth=3, label=f"{label}, Keras")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("E(w) (log scale)")
        ax.set_title("the loss along each path")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8)
        ax.grid(alpha=0.3)
        plt.show()
    """),
    md(r"""
        SGD's step size is limited by the steep direction ($\eta < 2/20$): at η = 0.09 it zig-zags
        across the valley while it crawls along it. Momentum's average $V$ cancels the alternating
        part of the gradient and accumulates the consistent one. RMSprop, Adam and Adagrad divide each
        coordinate by its own gradient scale, which undoes the ill-conditioning; Rprop ignores the
        gradient's size altogether and uses only its sign.
    """),
]
