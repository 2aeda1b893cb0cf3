"""Notebook: activations and losses with their derivatives, refnn beside TensorFlow.

    ReLU f′ = [z > 0]     sigmoid f′ = σ(1 − σ)     tanh f′ = 1 − tanh²
    softmax ∂yᵢ/∂zⱼ = yᵢ(δᵢⱼ − yⱼ), J = diag(y) − y yᵀ (the shortcut f(1 − f) keeps only the diagonal)
    MSE (p − y)², ∂/∂p = 2(p − y)        BCE −[y log p + (1 − y) log(1 − p)], ∂/∂p = (p − y)/(p(1 − p))

refnn's ``activations.get(name)`` and its ``backward`` (the vector–Jacobian product) against
``keras.activations`` under ``tf.GradientTape``; refnn's losses (``reduction="none"``) against
``keras.losses`` functions. Nothing trains, so the Keras side is plain Keras: no weights to share.
"""

from comparisons.notebooks.cells import code, md, setup_code

TITLE = "Activation functions, the softmax Jacobian, losses and their gradients"

CELLS = [
    md(r"""
        # Activation functions, the softmax Jacobian, losses and their gradients

        | function | $f$ | $f'$ |
        |---|---|---|
        | ReLU | $\max(z, 0)$ | $[z > 0]$ |
        | sigmoid | $\sigma(z) = 1/(1 + e^{-z})$ | $\sigma(1 - \sigma)$ |
        | tanh | $\tanh z$ | $1 - \tanh^2 z$ |
        | softmax | $y_i = e^{z_i}/\sum_j e^{z_j}$ | $J_{ij} = \partial y_i/\partial z_j = y_i(\delta_{ij} - y_j)$ |

        so softmax's Jacobian is the matrix $J = \mathrm{diag}(y) - y y^\top$.

        Losses for one prediction $p$ and target $y$: mean squared error $(p - y)^2$ with
        $\partial/\partial p = 2(p - y)$; binary crossentropy $-[y \log p + (1 - y)\log(1 - p)]$ with
        $\partial/\partial p = (p - y)/(p(1 - p))$.

        Backpropagation never forms $f'$ alone: each activation hands back the *vector–Jacobian
        product* $dZ = J^\top dY$. For an element-wise $f$ that is $f'(Z) \odot dY$; for softmax it
        is the full matrix product.
    """),
    setup_code("""
        z = np.linspace(-4.0, 4.0, 161)      # includes z = 0 exactly
        names = ["relu", "sigmoid", "tanh"]
    """),
    md(r"""
        ## refnn: $f$ and $f'$

        `refnn.activations.get(name)` is the function; `backward(z, y, dy)` returns $J^\top dy$ from the
        input, the cached output and the upstream gradient. With $dy = 1$ an element-wise activation
        returns $f'(z)$ itself.
    """),
    code("""
        refnn_f, refnn_df = {}, {}
        for name in names:
            act = refnn.activations.get(name)
            y = act(z)
            refnn_f[name], refnn_df[name] = y, act.backward(z, y, np.ones_like(z))
        print("f′ at z = -1, 0, 1:")
        for name in names:
            print(f"  {name:8s}", refnn_df[name][[60, 80, 100]])
    """),
    md(r"""
        ## Keras: the same functions, differentiated by TensorFlow

        Plain Keras: `keras.activations.get(name)` under `tf.GradientTape`. The gradient of a vector
        output is that of its sum, which for an element-wise function is $f'$ at every point. Keras
        works in float64 once `keras.config.set_floatx("float64")` is set (refnn's dtype here).
        At $z = 0$ both give ReLU the derivative 0. (TensorFlow may print a few start-up lines about
        oneDNN or CUDA on stderr: they are harmless.)
    """),
    code("""
        import keras
        import tensorflow as tf

        keras.config.set_floatx("float64")
        keras.utils.set_random_seed(0)
        keras_f, keras_df = {}, {}
        zt = tf.constant(z)
        for name in names:
            with tf.GradientTape() as tape:
                tape.watch(zt)
                y = keras.activations.get(name)(zt)
            keras_f[name], keras_df[name] = y.numpy(), tape.gradient(y, zt).numpy()
            print(f"{name:8s} max |refnn − Keras|:  f {np.max(np.abs(refnn_f[name] - keras_f[name])):.1e}"
                  f"   f′ {np.max(np.abs(refnn_df[name] - keras_df[name])):.1e}")
        assert all(np.max(np.abs(refnn_df[n] - keras_df[n])) < 1e-12 for n in names)
    """),
    code("""
        fig, axes = plt.subplots(1, 3, figsize=(12, 3.5), sharey=True)
        for ax, name in zip(axes, names):
            ax.plot(z, refnn_f[name], "-", color="C0", label="f, refnn")
            ax.plot(z, keras_f[name], ":", color="C0", linewidth=3, label="f, Keras")
            ax.plot(z, refnn_df[name], "-", color="C1", label="f′, refnn")
            ax.plot(z, keras_df[name], ":", color="C1", linewidth=3, label="f′, Keras")
            ax.set_title(name)
            ax.set_xlabel("z (pre-activation)")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("f(z) and f′(z)")
        axes[0].set_ylim(-1.2, 2.0)
        axes[0].legend(loc="upper left")
        plt.show()
    """),
    md(r"""
        ## Softmax: the full Jacobian, not $f(1 - f)$

        Each output $y_i$ depends on *every* input $z_j$, so softmax's derivative is the 3×3 matrix
        $J = \mathrm{diag}(y) - y y^\top$. Some textbooks write $f(1 - f)$, which keeps only its diagonal.
        With the crossentropy $L = -\sum_i t_i \log y_i$ the upstream gradient is $dY = -t / y$, and
        the full product gives the famous $dZ = y - t$; the diagonal alone gives a wrong answer
        (for $z = [2, 1, 0.1]$ and target class 1: zero for the two classes that should be pushed down).
    """),
    code("""
        zs = np.array([2.0, 1.0, 0.1])
        t = np.array([0.0, 1.0, 0.0])                           # the target: class 1
        softmax = refnn.activations.get("softmax")
        ys = softmax(zs)
        J_refnn = np.stack([softmax.backward(zs, ys, e) for e in np.eye(3)])   # row i: Jᵀ eᵢ
        dY = -t / ys                                                       # ∂L/∂y of the crossentropy
        dz_full = softmax.backward(zs, ys, dY)
        dz_diagonal = ys * (1 - ys) * dY                                    # the f(1 − f) shortcut
        print("J =\\n", J_refnn)
        print(f"max |J − (diag(y) − y yᵀ)| = {np.max(np.abs(J_refnn - (np.diag(ys) - np.outer(ys, ys)))):.1e}")
        print("dL/dz, full Jacobian:", dz_full, "  y − t:", ys - t)
        print("dL/dz, f(1 − f) only:", dz_diagonal)
    """),
    md(r"""
        Keras computes the same Jacobian by automatic differentiation (`tape.jacobian`), and the
        crossentropy's gradient through `keras.losses.CategoricalCrossentropy`:
    """),
    code("""
        zt = tf.constant(zs[None, :])                  # a batch of one row
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(zt)
            yk = keras.activations.softmax(zt)
            Lk = keras.losses.CategoricalCrossentropy()(t[None, :], yk)
        J_keras = tape.jacobian(yk, zt).numpy().reshape(3, 3)
        dz_keras = tape.gradient(Lk, zt).numpy()[0]
        print(f"Jacobian: max |refnn − Keras| = {np.max(np.abs(J_refnn - J_keras)):.1e}")
        print(f"dL/dz:    max |refnn − Keras| = {np.max(np.abs(dz_full - dz_keras)):.1e}")
        assert np.max(np.abs(J_refnn - J_keras)) < 1e-12 and np.max(np.abs(dz_full - dz_keras)) < 1e-12
    """),
    code("""
        fig, ax = plt.subplots(figsize=(6, 3.5))
        k = np.arange(3)
        ax.bar(k - 0.27, dz_full, width=0.27, color="C0", label="full Jacobian, refnn")
        ax.bar(k, dz_keras, width=0.27, facecolor="none", edgecolor="C0", linestyle=":", linewidth=2,
               label="full Jacobian, Keras")
        ax.bar(k + 0.27, dz_diagonal, width=0.27, color="C3", label="f(1 − f) shortcut")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(k, ["class 0", "class 1 (target)", "class 2"])
        ax.set_ylabel("∂L/∂z (crossentropy)")
        ax.set_title("z = [2, 1, 0.1], target class 1")
        ax.legend()
        plt.show()
    """),
    md(r"""
        ## Losses and their gradients

        One prediction per row, target $y = 1$. refnn's losses with `reduction="none"` return the
        per-sample values and the per-sample gradient $\partial \ell/\partial p$; Keras's loss
        functions return the values and `GradientTape` the gradient of their sum. Crossentropy's
        gradient $-1/p$ explodes as the prediction goes wrong; MSE's stays bounded.
    """),
    code("""
        p = np.linspace(0.02, 0.98, 97)[:, None]      # predictions, one per row
        y_true = np.ones_like(p)
        refnn_losses = {"mean squared error": refnn.losses.MeanSquaredError(reduction="none"),
                        "binary crossentropy": refnn.losses.BinaryCrossentropy(reduction="none")}
        refnn_l, refnn_dl = {}, {}
        for name, loss in refnn_losses.items():
            values, grad = loss.value_and_gradient(y_true, p)
            refnn_l[name], refnn_dl[name] = values, grad[:, 0]
    """),
    code("""
        keras_losses = {"mean squared error": keras.losses.mean_squared_error,
                        "binary crossentropy": keras.losses.binary_crossentropy}
        keras_l, keras_dl = {}, {}
        pt = tf.constant(p)
        for name, loss in keras_losses.items():
            with tf.GradientTape() as tape:
                tape.watch(pt)
                values = loss(y_true, pt)
            keras_l[name], keras_dl[name] = values.numpy(), tape.gradient(values, pt).numpy()[:, 0]
            print(f"{name:20s} max |refnn − Keras|:  loss {np.max(np.abs(refnn_l[name] - keras_l[name])):.1e}"
                  f"   gradient {np.max(np.abs(refnn_dl[name] - keras_dl[name])):.1e}")
        assert all(np.max(np.abs(refnn_dl[n] - keras_dl[n])) < 1e-12 for n in keras_losses)
    """),
    code("""
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        for ax, name in zip(axes, refnn_losses):
            ax.plot(p, refnn_l[name], "-", color="C0", label="loss, refnn")
            ax.plot(p, keras_l[name], ":", color="C0", linewidth=3, label="loss, Keras")
            ax.plot(p, refnn_dl[name], "-", color="C1", label="∂loss/∂p, refnn")
            ax.plot(p, keras_dl[name], ":", color="C1", linewidth=3, label="∂loss/∂p, Keras")
            ax.set_title(f"{name}, target y = 1")
            ax.set_xlabel("prediction p")
            ax.set_ylabel("loss and gradient")
            ax.set_ylim(-8, 5)
            ax.grid(alpha=0.3)
        axes[0].legend()
        plt.show()
    """),
]
