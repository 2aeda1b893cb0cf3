"""Study: where the lecture-notes formulas and Keras differ, and by how much — measured live.

Each item runs the textbook form with refnn's named convention flags (``SGD(momentum_form="ema")``,
``optimizers.get("rmsprop", convention="textbook")``, ``Adam(epsilon_form="paper")``) or the
textbook formula in NumPy, and the Keras form in Keras/TensorFlow itself. Each also checks that
refnn's Keras form agrees with the live Keras numbers of the same experiment (reference/
keras_numerics.md §12 lists the expected sizes):

1. Momentum as an EMA ``V ← βV + (1−β)g; W −= lr·V`` vs Keras's velocity ``m ← μm − lr·g; W += m``:
   Keras's step is 1/(1−β) = 10× larger at every step at a constant lr; with ``lr·(1−β)`` they
   agree — until the learning rate changes.
2. RMSprop: the notes' β = 0.999 with ε outside √ vs Keras's ρ = 0.9 with ε inside √: 10× larger
   first steps; and the floor √ε = 3.2e-4 under Keras's denominator for small gradients.
3. Adam's ε̂ (Keras) vs Algorithm 1's ε: the relative step difference against |g|, t = 1 and 1000.
4. The MSE derivative ``2/n·(ŷ − y)`` with n = samples vs Keras's ``2(ŷ − y)/(N·D)``.
5. The BCE derivative on probabilities in float32: σ(20) rounds to 1 and the textbook gradient
   vanishes; Keras differentiates from the logits.
6. The softmax derivative written ``f(1 − f)`` (diagonal only) vs the full Jacobian; and the CCE
   derivative ``−y/ŷ`` vs Keras's renormalised ``−y/ŷ + 1/N``.
7. L2: the notes' ``λ/2·‖w‖²`` vs Keras's ``l2·Σw²``.
"""

from __future__ import annotations

import time

import numpy as np

from comparisons.report import Check, Difference, Heading, Panel, Plot, Progress, Section, Series, Table, fmt_num
from refnn import activations, losses, optimizers, regularizers
from refnn.optimizers import schedules

__all__ = ["momentum", "rmsprop", "adam", "mse", "bce", "softmax", "l2", "run"]

F64 = "float64"
TINY = 1e-300


# ---- running an optimizer on a gradient sequence, both sides --------------------------------------
def _keras_trajectory(make_optimizer, init: np.ndarray, grads: np.ndarray, dtype: str = F64) -> np.ndarray:
    """``W_0 … W_T`` of a Keras optimizer (``make_optimizer()`` is called under ``floatx(dtype)``)
    fed ``grads[t]`` at step t; shape ``(T + 1, *init.shape)``."""
    import keras
    import tensorflow as tf
    from keras_bridge import floatx

    with floatx(dtype):
        opt = make_optimizer()
        var = keras.Variable(np.asarray(init, dtype=dtype), dtype=dtype)
        out = [np.asarray(init, dtype=dtype)]
        for g in grads:
            opt.apply_gradients([(tf.constant(np.asarray(g, dtype=dtype)), var)])
            out.append(var.numpy())
    return np.stack(out)


def _refnn_trajectory(optimizer, init: np.ndarray, grads: np.ndarray) -> np.ndarray:
    params = {"w": np.array(init, dtype=np.asarray(grads).dtype)}
    out = [params["w"].copy()]
    for g in grads:
        optimizer.apply(params, {"w": g})
        out.append(params["w"].copy())
    return np.stack(out)


def _steps(trajectory: np.ndarray) -> np.ndarray:
    """``Δ_t = W_{t−1} − W_t`` (positive for a positive gradient), t = 1 … T."""
    return trajectory[:-1] - trajectory[1:]


def _rel(mine, theirs) -> float:
    from keras_bridge.compare import relative_error

    return relative_error(mine, theirs)


# ---- 1. momentum ----------------------------------------------------------------------------------
def momentum(steps: int = 100, seed: int = 0, beta: float = 0.9, lr: float = 0.1) -> dict:
    """Keras velocity vs the lecture's EMA, same gradients.

    Returns:
        ``ratio_constant`` (Keras step / EMA step at a constant lr, min and max over steps and
        elements), ``ratio_mapped`` (Keras with ``lr·(1−β)``: 1), ``ratio_schedule`` (the same
        mapping under ``ExponentialDecay(lr, 10, 0.5)``, per step), ``check`` (refnn's Keras form
        vs live Keras).
    """
    import keras

    rng = np.random.default_rng(seed)
    grads = rng.standard_normal((steps, 8))
    init = rng.standard_normal(8)

    # Keras float64 rounds μ through float32; the refnn side uses that μ too, so the ratio is exact
    def ema(lr_):
        return optimizers.SGD(lr_, momentum=beta, momentum_form="ema", keras_float32_constants=True)

    keras_same = _steps(_keras_trajectory(lambda: keras.optimizers.SGD(lr, momentum=beta), init, grads))
    ema_steps = _steps(_refnn_trajectory(ema(lr), init, grads))
    refnn_keras = _steps(_refnn_trajectory(optimizers.SGD(lr, momentum=beta, keras_float32_constants=True),
                                           init, grads))
    ratio = keras_same / ema_steps
    mu32 = float(np.float32(beta))  # the μ Keras float64 computes with
    # a constant positive gradient makes the scheduled ratio a clean curve
    ones = np.ones((steps, 1))
    mapped = _steps(_keras_trajectory(lambda: keras.optimizers.SGD(lr * (1 - mu32), momentum=beta), [0.0], ones))
    ema_const = _steps(_refnn_trajectory(ema(lr), [0.0], ones))
    sched_keras = _steps(_keras_trajectory(lambda: keras.optimizers.SGD(
        keras.optimizers.schedules.ExponentialDecay(lr * (1 - mu32), 10, 0.5), momentum=beta), [0.0], ones))
    sched_ema = _steps(_refnn_trajectory(optimizers.SGD(schedules.ExponentialDecay(lr, 10, 0.5), momentum=beta,
                                                        momentum_form="ema", keras_float32_constants=True),
                                         [0.0], ones))
    return {
        "beta": beta, "lr": lr, "steps": steps,
        "expected_ratio": 1.0 / (1.0 - mu32),
        "ratio_constant": [float(ratio.min()), float(ratio.max())],
        "ratio_constant_per_step": (keras_same[:, 0] / ema_steps[:, 0]).tolist(),
        "ratio_mapped": (mapped[:, 0] / ema_const[:, 0]).tolist(),
        "ratio_schedule": (sched_keras[:, 0] / sched_ema[:, 0]).tolist(),
        "check": _rel(refnn_keras, keras_same),
    }


# ---- 2. RMSprop -----------------------------------------------------------------------------------
FLOOR_GRADIENTS = (1e-2, 1e-3, 1e-4)


def rmsprop(keras_steps: int = 200, textbook_steps: int = 20000, lr: float = 1e-3) -> dict:
    """Step/lr over t for a constant g = 1, and the steady step/lr against |g|.

    Keras runs ρ = 0.9, ε = 1e-7 inside √ (live). The textbook preset
    (``optimizers.get("rmsprop", convention="textbook")``: β = 0.999, ε = 1e-8 outside √, no bias
    correction) runs ``textbook_steps`` to reach its steady state; ``RMSprop(ε outside)`` with
    Keras's ρ and ε isolates the placement of ε.
    """
    import keras

    g_values = np.unique(np.concatenate([[1.0], FLOOR_GRADIENTS, np.logspace(-6, 0, 25)]))[::-1]
    init = np.zeros_like(g_values)
    keras_tr = _keras_trajectory(lambda: keras.optimizers.RMSprop(lr), init,
                                 np.tile(g_values, (keras_steps, 1)))
    keras_rel = _steps(keras_tr) / lr
    refnn_keras = _steps(_refnn_trajectory(optimizers.RMSprop(lr), init, np.tile(g_values, (keras_steps, 1)))) / lr
    textbook = optimizers.get("rmsprop", convention="textbook")
    textbook.learning_rate = lr
    text_rel = _steps(_refnn_trajectory(textbook, init, np.tile(g_values, (textbook_steps, 1)))) / lr
    outside = _steps(_refnn_trajectory(optimizers.RMSprop(lr, epsilon_placement="outside_sqrt"), init,
                                       np.tile(g_values, (keras_steps, 1)))) / lr
    one = int(np.flatnonzero(g_values == 1.0)[0])
    at = lambda a, t: float(a[t - 1, one])  # noqa: E731
    floor = {}
    for g in FLOOR_GRADIENTS:
        i = int(np.flatnonzero(g_values == g)[0])
        floor[g] = {"keras": float(keras_rel[-1, i]), "outside_sqrt": float(outside[-1, i]),
                    "textbook": float(text_rel[-1, i]), "formula_keras": g / np.sqrt(g * g + 1e-7)}
    return {
        "lr": lr, "keras_steps": keras_steps, "textbook_steps": textbook_steps,
        "step_over_lr": {t: {"keras": at(keras_rel, t), "textbook": at(text_rel, t)} for t in (1, 10, 100)},
        "curve_keras": keras_rel[:, one].tolist(), "curve_textbook": text_rel[:, one].tolist(),
        "g": g_values.tolist(),
        "steady_keras": keras_rel[-1].tolist(),
        "steady_outside": outside[-1].tolist(),
        "steady_textbook": text_rel[-1].tolist(),
        "floor": floor,
        "check": _rel(refnn_keras, keras_rel),
    }


# ---- 3. Adam --------------------------------------------------------------------------------------
ADAM_GRADIENTS = (1.0, 1e-2, 1e-3, 1e-4, 1e-5)


def adam(steps: int = 1000, lr: float = 1e-3, epsilon: float = 1e-7) -> dict:
    """Relative step difference ``(Δ_keras − Δ_paper)/Δ_paper`` against a constant |g|, at t = 1 and
    t = ``steps``, with the same ε; plus the textbook preset (ε = 1e-8)."""
    import keras

    g_values = np.unique(np.concatenate([ADAM_GRADIENTS, np.logspace(-7, 0, 29)]))[::-1]
    init = np.zeros_like(g_values)
    grads = np.tile(g_values, (steps, 1))
    keras_steps = _steps(_keras_trajectory(lambda: keras.optimizers.Adam(lr, epsilon=epsilon), init, grads))
    # β's rounded through float32 in βᵗ as Keras float64 does: only the ε form differs
    paper = _steps(_refnn_trajectory(optimizers.Adam(lr, epsilon=epsilon, epsilon_placement="sqrt_v_hat",
                                                     keras_float32_constants=True), init, grads))
    preset = optimizers.get("adam", convention="textbook")
    preset.learning_rate, preset.keras_float32_constants = lr, True
    preset_steps = _steps(_refnn_trajectory(preset, init, grads))
    refnn_keras = _steps(_refnn_trajectory(optimizers.Adam(lr, epsilon=epsilon, keras_float32_constants=True),
                                           init, grads))
    rel = (keras_steps - paper) / paper
    rel_preset = (keras_steps - preset_steps) / preset_steps
    table = {}
    for g in ADAM_GRADIENTS:
        i = int(np.flatnonzero(g_values == g)[0])
        # Keras ≡ paper with ε_paper = ε/√(1−β₂ᵗ): at t = 1, Δ_k/Δ_p − 1 = (|g| + ε)/(|g| + ε/√(1−β₂)) − 1
        table[g] = {"t1": float(rel[0, i]), "tT": float(rel[-1, i]), "preset_tT": float(rel_preset[-1, i]),
                    "formula_t1": float((g + epsilon) / (g + epsilon / np.sqrt(1 - 0.999)) - 1)}
    return {"lr": lr, "epsilon": epsilon, "steps": steps, "g": g_values.tolist(),
            "rel_t1": rel[0].tolist(), "rel_tT": rel[-1].tolist(), "table": table,
            "check": _rel(refnn_keras, keras_steps)}


# ---- 4. MSE ---------------------------------------------------------------------------------------
def mse(seed: int = 0, rows: int = 64) -> dict:
    """``∂L/∂ŷ`` of the MSE: Keras (GradientTape, live) vs the notes' ``2/n·(ŷ − y)`` with n =
    samples, on diabetes (D = 1) and iris with one-hot targets (D = 3); ŷ from an untrained
    network."""
    import keras
    import tensorflow as tf
    from keras_bridge import floatx

    import refnn
    from comparisons import datasets
    from refnn import layers

    out = {}
    for name in ("diabetes", "iris"):
        data = datasets.load(name, F64, seed)
        x, y = data.x_train[:rows], data.y_train[:rows]
        net = refnn.Sequential([layers.Dense(8, activation="tanh"), layers.Dense(data.n_outputs)],
                               input_dim=data.n_features, seed=seed)
        y_hat = net.predict(x)
        with floatx(F64):
            pred = tf.Variable(y_hat)
            with tf.GradientTape() as tape:
                value = keras.losses.MeanSquaredError()(tf.constant(y), pred)
            g_keras = tape.gradient(value, pred).numpy()
        n, d = y.shape
        g_notes = 2.0 * (y_hat - y) / n
        g_refnn = losses.MeanSquaredError().gradient(y, y_hat)
        out[name] = {"N": n, "D": d, "ratio": float(np.median(g_notes / g_keras)),
                     "check": _rel(g_refnn, g_keras)}
    return out


# ---- 5. BCE in float32 ----------------------------------------------------------------------------
BCE_TABLE_Z = (5.0, 10.0, 15.0, 16.0, 17.0, 20.0)


def bce(z_max: float = 25.0, points: int = 101) -> dict:
    """``N·∂L/∂z`` for a sigmoid output, target 0, against the logit z: per-sample, so the
    logits-path value is σ(z) − y ≈ 1 for large z.

    * textbook: ``(ŷ − y)/(ŷ(1 − ŷ))/N`` chained with ``σ'(z) = ŷ(1 − ŷ)``, NumPy, no clip;
    * textbook with Keras's clip of ŷ to [ε, 1 − ε] (``refnn.losses.BinaryCrossentropy`` on
      probabilities);
    * Keras on probabilities (``tf.math.sigmoid`` output: no logits attached → clipped path);
    * Keras on the output of ``keras.activations.sigmoid`` (the logits path a Dense layer with
      ``activation="sigmoid"`` takes).
    """
    import keras
    import tensorflow as tf
    from keras_bridge import floatx

    z_grid = np.unique(np.concatenate([np.linspace(0.0, z_max, points), BCE_TABLE_Z]))
    out = {"z": z_grid.tolist()}
    for dtype in ("float32", F64):
        z = z_grid.reshape(-1, 1).astype(dtype)
        n = z.shape[0]
        y = np.zeros_like(z)
        sig = activations.Sigmoid()
        p = sig(z)
        with np.errstate(divide="ignore", invalid="ignore"):
            notes = ((p - y) / (p * (1 - p)) / n) * (p * (1 - p))
        clipped = sig.backward(z, p, losses.BinaryCrossentropy().gradient(y, p))
        logits_refnn = losses.BinaryCrossentropy(from_logits=True).gradient(y, z)
        with floatx(dtype):
            zt = tf.Variable(z)
            grads = {}
            for path, f in (("keras_probabilities", tf.math.sigmoid), ("keras_logits", keras.activations.sigmoid)):
                with tf.GradientTape() as tape:
                    value = keras.losses.BinaryCrossentropy()(tf.constant(y), f(zt))
                grads[path] = tape.gradient(value, zt).numpy()
        out[dtype] = {
            "textbook": (n * notes).ravel().tolist(),
            "textbook_clipped": (n * clipped).ravel().tolist(),
            "keras_probabilities": (n * grads["keras_probabilities"]).ravel().tolist(),
            "keras_logits": (n * grads["keras_logits"]).ravel().tolist(),
            "check": _rel(logits_refnn, grads["keras_logits"]),
            "saturates_at": float(z_grid[np.argmax(p.ravel() == 1.0)]) if np.any(p == 1.0) else None,
        }
    return out


# ---- 6. softmax Jacobian and the CCE derivative ---------------------------------------------------
def softmax(z=(2.0, 1.0, 0.1), target: int = 1) -> dict:
    """``∂L/∂z`` of CCE(softmax(z)): Keras (live) vs the full Jacobian and the diagonal-only
    ``f(1 − f)`` applied to the notes' ``∂L/∂ŷ = −y/ŷ``; and ``∂L/∂ŷ`` on probabilities."""
    import keras
    import tensorflow as tf
    from keras_bridge import floatx

    z = np.asarray([z], dtype=F64)
    y = np.zeros_like(z)
    y[0, target] = 1.0
    sm = activations.Softmax()
    f = sm(z)
    dy_notes = -y / f
    full = sm.backward(z, f, dy_notes)
    diagonal = dy_notes * f * (1 - f)
    with floatx(F64):
        zt = tf.Variable(z)
        with tf.GradientTape() as tape:
            value = keras.losses.CategoricalCrossentropy()(tf.constant(y), keras.activations.softmax(zt))
        keras_dz = tape.gradient(value, zt).numpy()
        pt = tf.Variable(f)  # a plain probability tensor: Keras's clipped, renormalised path
        with tf.GradientTape() as tape:
            value = keras.losses.CategoricalCrossentropy()(tf.constant(y), pt)
        keras_dp = tape.gradient(value, pt).numpy()
    refnn_dp = losses.CategoricalCrossentropy().gradient(y, f)
    return {
        "z": z.ravel().tolist(), "target": target, "f": f.ravel().tolist(),
        "keras": keras_dz.ravel().tolist(), "full": full.ravel().tolist(), "diagonal": diagonal.ravel().tolist(),
        "diagonal_error": float(np.max(np.abs(diagonal - keras_dz))),
        "dp_notes": dy_notes.ravel().tolist(), "dp_keras": keras_dp.ravel().tolist(),
        "dp_offset": (keras_dp - dy_notes).ravel().tolist(),
        "check": max(_rel(full, keras_dz), _rel(refnn_dp, keras_dp)),
    }


# ---- 7. L2 ----------------------------------------------------------------------------------------
def l2(seed: int = 0, factor: float = 0.01) -> dict:
    """Penalty and gradient on the digits network's first kernel: Keras ``L2(l2)`` (live) vs the
    notes' ``λ/2·‖w‖²`` with λ = l2."""
    import keras
    import tensorflow as tf
    from keras_bridge import floatx

    from comparisons.demo import build_model

    w = build_model(seed, F64).layers[0].params["kernel"]
    with floatx(F64):
        wt = tf.Variable(w)
        with tf.GradientTape() as tape:
            value = keras.regularizers.L2(factor)(wt)
        g_keras = tape.gradient(value, wt).numpy()
    value = float(value)
    notes_value, notes_grad = 0.5 * factor * float(np.sum(w * w)), factor * w
    # Keras float64 rounds the factor through float32; refnn's L2 with that factor is its twin
    reg = regularizers.L2(float(np.float32(factor)))
    return {"l2": factor, "keras_value": value, "notes_value": notes_value,
            "value_ratio": value / notes_value, "gradient_ratio": float(np.median(g_keras / notes_grad)),
            "exact_factor_rel": abs(value - factor * float(np.sum(w * w))) / value,
            "check": max(_rel(reg(w), value), _rel(reg.gradient(w), g_keras))}


# ---- the section ----------------------------------------------------------------------------------
def run(quick: bool = False, seed: int = 0, progress: Progress | None = None) -> Section:
    """All seven items; ``quick`` shortens the RMSprop textbook run (5 000 steps instead of 20 000,
    steady to 0.3 %)."""
    start = time.perf_counter()
    progress = progress or Progress(None)
    progress.start("conventions", 7)
    section = Section("conventions", "Textbook vs Keras: the conventions, measured")
    section.add(
        "The lecture formulas and Keras compute different things in seven places. Each item runs "
        "the textbook form with refnn's named convention flags (or the formula in NumPy) and the "
        "Keras form in Keras/TensorFlow itself, in float64 unless stated; each also checks that "
        "refnn's Keras form reproduces the live Keras numbers of the same experiment.")
    tol = {F64: 1e-10}

    def check(what, err, dtype=F64, rtol=None):
        section.checks.append(Check(f"conventions: {what}", {dtype: err},
                                    {dtype: rtol if rtol is not None else tol[F64]}))

    # 1. momentum
    m = momentum(seed=seed)
    section.data["momentum"] = m
    progress.step("momentum")
    ratio = m["ratio_constant"]
    drift = m["ratio_schedule"][-1]
    section.add(
        Heading("1. Momentum: moving average (notes) vs velocity (Keras)"),
        "Notes: `V ← βV + (1−β)g; W ← W − lr·V`. Keras: `m ← μm − lr·g; W ← W + m`. Same β = μ = "
        f"{m['beta']}, lr = {m['lr']}, {m['steps']} random gradients (refnn `SGD(momentum_form=\"ema\")` "
        "vs `keras.optimizers.SGD`). Keras's velocity is the EMA without its (1−β) factor and with lr "
        "inside, so its step is the EMA step × 1/(1−β) at *every* step. Setting lr_keras = (1−β)·lr "
        "makes them equal — but only while lr is constant: under a schedule, Keras scales each "
        "gradient by the lr of its own step and remembers it, the EMA multiplies the whole average "
        "by today's lr.",
        Table(["setting", "Keras step / EMA step"], [
            [f"same lr = {m['lr']}, every step and element (min … max)",
             f"{ratio[0]:.6f} … {ratio[1]:.6f} (1/(1−β) = {m['expected_ratio']:.6f}; Keras rounds β "
             "through float32 in float64)"],
            [f"lr_keras = (1−β)·lr, constant", f"{min(m['ratio_mapped']):.6f} … {max(m['ratio_mapped']):.6f}"],
            ["lr_keras = (1−β)·lr, both ExponentialDecay (×0.5 every 10 steps)",
             f"1 at step 1, {m['ratio_schedule'][9]:.3f} at step 10, {drift:.3f} at step {m['steps']}"],
        ], "Constant gradient g = 1 for the last two rows."),
        Plot("conventions_momentum", "Keras step / EMA step, per step. Same lr: 10× throughout. With "
             "lr_keras = (1−β)·lr: equal at a constant lr, diverging as soon as the lr decays.",
             [Panel("momentum: Keras velocity / EMA", "step", "step ratio", [
                 Series("same lr", list(range(1, m["steps"] + 1)), m["ratio_constant_per_step"]),
                 Series("lr·(1−β), constant lr", list(range(1, m["steps"] + 1)), m["ratio_mapped"], "--"),
                 Series("lr·(1−β), ExponentialDecay", list(range(1, m["steps"] + 1)), m["ratio_schedule"]),
             ], yscale="log")]))
    section.differences += [
        Difference("momentum: Keras velocity vs EMA, same constant lr (β = 0.9)",
                   f"Keras steps are {ratio[1]:.4f}× the EMA's at every step (1/(1−β))", ratio[1]),
        Difference("momentum under a schedule (lr halves every 10 steps), lr_keras = (1−β)·lr",
                   f"step ratio drifts from 1 to {drift:.3f} by step {m['steps']}: no single lr maps them",
                   drift)]
    check("SGD momentum (Keras form) vs Keras, 100 random gradients", m["check"])

    # 2. RMSprop
    r = rmsprop(textbook_steps=5000 if quick else 20000)
    section.data["rmsprop"] = r
    progress.step("rmsprop")
    s = r["step_over_lr"]
    section.add(
        Heading("2. RMSprop: β = 0.999, ε outside √ (notes) vs ρ = 0.9, ε inside √ (Keras)"),
        "Notes: `s ← βs + (1−β)g²`, β = 0.999, `W −= lr·g/(√s + ε)`. Keras: ρ = 0.9, "
        "`W −= lr·g/√(s + ε)`, ε = 1e-7. Neither is bias-corrected, so the first steps are "
        "lr·g/√((1−β)g²): 1/√0.1 = 3.16 for Keras, 1/√0.001 = 31.6 for the notes — and β = 0.999 needs "
        "thousands of steps to settle. Constant gradient g = 1, textbook side "
        "`optimizers.get(\"rmsprop\", convention=\"textbook\")`.",
        Table(["step t", "Keras step/lr (live)", "notes step/lr", "ratio"],
              [[str(t), fmt_num(v["keras"]), fmt_num(v["textbook"]), f"{v['textbook'] / v['keras']:.2f}×"]
               for t, v in s.items()]),
        "ε inside the square root puts a floor √ε = 3.16e-4 under Keras's denominator: at steady state "
        "step/lr = |g|/√(g² + ε), which falls well below 1 for |g| ≲ 1e-3. With ε outside (same ρ and ε, "
        "`RMSprop(epsilon_placement=\"outside_sqrt\")`) it is |g|/(|g| + ε) ≈ 1.",
        Table(["|g|", "Keras (live)", "|g|/√(g²+ε)", "ε outside √, same ρ, ε", "notes preset (steady)"],
              [[f"{g:.0e}", fmt_num(v["keras"]), fmt_num(v["formula_keras"]), fmt_num(v["outside_sqrt"]),
                fmt_num(v["textbook"])] for g, v in r["floor"].items()],
              f"Steady-state step/lr: Keras after {r['keras_steps']} steps, the notes' β = 0.999 after "
              f"{r['textbook_steps']}."),
        Plot("conventions_rmsprop", "Left: step/lr for a constant g = 1. Right: steady-state step/lr "
             "against |g| — Keras's ε inside √ damps small gradients.", [
                 Panel("step/lr over t (g = 1)", "step t", "step / lr", [
                     Series("Keras ρ=0.9, ε inside √", list(range(1, len(r["curve_keras"]) + 1)), r["curve_keras"]),
                     Series("notes β=0.999, ε outside √", list(range(1, len(r["curve_textbook"]) + 1)),
                            r["curve_textbook"])], xscale="log", yscale="log"),
                 Panel("steady state vs |g|", "|g|", "step / lr", [
                     Series("Keras (live)", r["g"], r["steady_keras"], "o-"),
                     Series("ε outside √ (same ρ, ε)", r["g"], r["steady_outside"], "--"),
                     Series("notes preset", r["g"], r["steady_textbook"], ":")], xscale="log")]))
    f4 = r["floor"][1e-4]
    section.differences += [
        Difference("RMSprop first step, constant g: notes (β = 0.999) vs Keras (ρ = 0.9)",
                   f"step/lr {s[1]['textbook']:.2f} vs {s[1]['keras']:.3f} ({s[1]['textbook'] / s[1]['keras']:.1f}×); "
                   f"at t = 100 {s[100]['textbook']:.2f} vs {s[100]['keras']:.3f}", s[1]["textbook"] / s[1]["keras"]),
        Difference("RMSprop ε inside √ (Keras) vs outside: steady step/lr at |g| = 1e-2, 1e-3, 1e-4",
                   ", ".join(f"{v['keras']:.4f}" for v in r["floor"].values()) + " vs "
                   + ", ".join(f"{v['outside_sqrt']:.4f}" for v in r["floor"].values()), f4["keras"])]
    check("RMSprop (Keras form) vs Keras, constant gradients", r["check"])

    # 3. Adam
    a = adam()
    section.data["adam"] = a
    progress.step("adam")
    section.add(
        Heading("3. Adam: ε̂ (Keras) vs ε (Kingma & Ba, Algorithm 1)"),
        "Paper: `W −= lr·m̂/(√v̂ + ε)`. Keras: `W −= lr·√(1−β₂ᵗ)/(1−β₁ᵗ)·m/(√v + ε)` — ε is added to "
        "the *uncorrected* √v, i.e. Keras ≡ paper with ε_paper = ε/√(1−β₂ᵗ): 31.6× larger at t = 1, "
        "→ ε as t grows. Same ε = 1e-7 on both sides (refnn `Adam(epsilon_form=\"paper\")`), constant "
        "gradient, relative step difference (Δ_keras − Δ_paper)/Δ_paper. The notes' preset also "
        "uses ε = 1e-8 (last column).",
        Table(["|g|", "t = 1 (live)", "t = 1 formula", f"t = {a['steps']}", f"notes preset ε=1e-8, t = {a['steps']}"],
              [[f"{g:.0e}", fmt_num(v["t1"], 3), fmt_num(v["formula_t1"], 3), fmt_num(v["tT"], 3),
                fmt_num(v["preset_tT"], 3)] for g, v in a["table"].items()],
              "t = 1 formula: (|g| + ε)/(|g| + ε/√(1−β₂)) − 1."),
        Plot("conventions_adam", "|relative step difference| Keras vs paper, same ε = 1e-7, against a "
             "constant |g|: large only where √v̂ is comparable to ε (tiny gradients), shrinking with t.",
             [Panel("Adam: ε̂ vs ε", "|g|", "|Δ_keras − Δ_paper| / Δ_paper", [
                 Series("t = 1", a["g"], np.abs(a["rel_t1"]).tolist(), "o-"),
                 Series(f"t = {a['steps']}", a["g"], np.maximum(np.abs(a["rel_tT"]), 1e-18).tolist(), "s--")],
                 xscale="log", yscale="log")]))
    t4 = a["table"][1e-4]
    section.differences.append(Difference(
        "Adam ε̂ (Keras) vs paper ε, same ε = 1e-7, step at |g| = 1e-4",
        f"{100 * t4['t1']:+.2f}% at t = 1, {100 * t4['tT']:+.3f}% at t = {a['steps']}; at |g| = 1: "
        f"{a['table'][1.0]['t1']:.1e}", t4["t1"]))
    check(f"Adam (Keras form) vs Keras, {a['steps']} steps", a["check"])

    # 4. MSE
    e = mse(seed=seed)
    section.data["mse"] = e
    progress.step("mse")
    section.add(
        Heading("4. MSE derivative: 2/n·(ŷ − y) with n = samples (notes) vs 2(ŷ − y)/(N·D) (Keras)"),
        "Keras averages the squared error over the D outputs and the N samples. The notes' n is the "
        "number of samples, so the notes' gradient is D× larger as soon as the output has D > 1 units "
        "(same if n counts all N·D entries). ŷ from an untrained network, Keras gradient by "
        "`GradientTape`.",
        Table(["data", "N", "D", "notes / Keras gradient"],
              [[k, str(v["N"]), str(v["D"]), f"{v['ratio']:.4f}"] for k, v in e.items()]))
    section.differences.append(Difference(
        "MSE derivative 2/n·(ŷ−y), n = samples, vs Keras 2/(N·D)",
        f"notes are D× larger: {e['iris']['ratio']:.3f}× on iris one-hot (D = 3), "
        f"{e['diabetes']['ratio']:.3f}× on diabetes (D = 1)", e["iris"]["ratio"]))
    check("MSE gradient vs Keras (diabetes, iris)", max(v["check"] for v in e.values()))

    # 5. BCE
    b = bce()
    section.data["bce"] = b
    progress.step("bce")
    z = b["z"]
    idx = [z.index(v) for v in BCE_TABLE_Z]
    f32, f64 = b["float32"], b[F64]
    section.add(
        Heading("5. BCE derivative on probabilities, float32: saturation"),
        "Notes: `∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ))/n`, chained through σ'(z) = ŷ(1 − ŷ). Mathematically "
        "that is (σ(z) − y)/n, Keras's logits-path gradient — but in float32 σ(z) rounds to exactly "
        f"1 from z ≈ {f32['saturates_at']} on: the notes' formula gives 0/0 (NaN) and, with Keras's "
        "clip of ŷ to [ε, 1 − ε], 0 — a confidently wrong unit stops learning. Keras differentiates "
        "from the logits whenever the probabilities come from a sigmoid layer. Values are N·∂L/∂z "
        "(per sample) for target 0.",
        Table(["z", "notes (no clip)", "notes, ŷ clipped", "Keras, probabilities", "Keras, logits path",
               "float64: notes"],
              [[fmt_num(z[i], 3), fmt_num(f32["textbook"][i], 6), fmt_num(f32["textbook_clipped"][i], 6),
                fmt_num(f32["keras_probabilities"][i], 6), fmt_num(f32["keras_logits"][i], 6),
                fmt_num(f64["textbook"][i], 10)] for i in idx], "float32 unless stated."),
        Plot("conventions_bce", "N·∂L/∂z for target 0 in float32 against the logit z: the probability "
             "path collapses to 0 where σ(z) reaches the clip bound 1 − ε (TensorFlow's float32 sigmoid "
             "rounds a little differently from NumPy's, so the two drop at slightly different z); the "
             "logits path stays at σ(z) − y ≈ 1.",
             [Panel("BCE gradient, float32", "logit z", "N·∂L/∂z", [
                 Series("notes, ŷ clipped (NaN unclipped)", z, f32["textbook_clipped"]),
                 Series("Keras, probabilities", z, f32["keras_probabilities"], "--"),
                 Series("Keras, logits path", z, f32["keras_logits"], ":")])]))
    i20 = z.index(20.0)
    section.differences.append(Difference(
        "BCE on probabilities, float32, z = 20 (σ(z) rounds to 1), target 0",
        f"notes ∂L/∂z = {fmt_num(f32['textbook_clipped'][i20])} (NaN without the clip) vs Keras logits "
        f"path {fmt_num(f32['keras_logits'][i20])}/N", f32["textbook_clipped"][i20]))
    check("BCE logits-path gradient vs Keras, float32", f32["check"], "float32", 1e-5)
    check("BCE logits-path gradient vs Keras, float64", f64["check"])

    # 6. softmax
    sm = softmax()
    section.data["softmax"] = sm
    progress.step("softmax")
    fmt3 = lambda v: "[" + ", ".join(f"{x + 0.0:.3f}" for x in v) + "]"  # noqa: E731
    section.add(
        Heading("6. Softmax derivative f(1 − f) vs the full Jacobian; CCE derivative"),
        "The softmax Jacobian is `∂f_i/∂z_j = f_i(δ_ij − f_j)`. Writing it as f(1 − f) keeps only the "
        "diagonal: with the notes' `∂L/∂ŷ = −y/ŷ` that gives −y(1 − f) — non-zero only for the target "
        "— instead of f − y. A wrong gradient, not a rounding effect. "
        f"z = {fmt3(sm['z'])}, target class {sm['target']}.",
        Table(["", "∂L/∂z"], [["Keras (GradientTape, live)", fmt3(sm["keras"])],
                              ["notes −y/ŷ, full Jacobian", fmt3(sm["full"])],
                              ["notes −y/ŷ, diagonal f(1 − f) only", fmt3(sm["diagonal"])]]),
        "On probabilities Keras renormalises ŷ ← ŷ/Σŷ before the log, which adds Σy/Σŷ = 1 to every "
        f"entry of ∂L/∂ŷ (N = 1 here): Keras {fmt3(sm['dp_keras'])} vs notes −y/ŷ {fmt3(sm['dp_notes'])}. "
        "The constant cancels through the full softmax Jacobian, so ∂L/∂z is the same.",
        Plot("conventions_softmax", "∂L/∂z of CCE(softmax(z)), z = [2, 1, 0.1], target 1: the "
             "diagonal-only derivative drops the −f_i f_j terms.",
             [Panel("softmax + CCE: ∂L/∂z", "class", "∂L/∂z", [
                 Series("Keras", ["0", "1", "2"], sm["keras"]),
                 Series("full Jacobian", ["0", "1", "2"], sm["full"]),
                 Series("diagonal f(1−f)", ["0", "1", "2"], sm["diagonal"])], kind="bar")]))
    section.differences += [
        Difference("softmax derivative f(1−f) (diagonal) vs full Jacobian, z = [2, 1, 0.1], target 1",
                   f"∂L/∂z {fmt3(sm['diagonal'])} vs {fmt3(sm['keras'])} (max error {sm['diagonal_error']:.3f})",
                   sm["diagonal_error"]),
        Difference("CCE ∂L/∂ŷ on probabilities: notes −y/ŷ vs Keras (renormalised)",
                   f"Keras adds +{np.mean(sm['dp_offset']):.3f}/N to every class; ∂L/∂z unchanged",
                   float(np.mean(sm["dp_offset"])))]
    check("softmax + CCE gradients vs Keras (logits and probability paths)", sm["check"])

    # 7. L2
    w = l2(seed=seed)
    section.data["l2"] = w
    progress.step("l2")
    section.add(
        Heading("7. L2: λ/2·‖w‖² (notes) vs l2·Σw² (Keras)"),
        "Keras's `L2(l2)` adds l2·Σw² with no ½, gradient 2·l2·w. With the same number, Keras's penalty "
        "and its gradient are twice the notes': the notes' λ is Keras's `L2(λ/2)`. (And in float64 "
        "Keras rounds l2 through float32: its penalty differs from l2·Σw² with the exact 0.01 by "
        f"{w['exact_factor_rel']:.1e} relative.) The digits network's first kernel, l2 = λ = {w['l2']}.",
        Table(["", "penalty", "Keras / notes"],
              [["Keras L2 (live)", fmt_num(w["keras_value"], 6), ""],
               ["notes λ/2‖w‖²", fmt_num(w["notes_value"], 6), f"{w['value_ratio']:.6f}"],
               ["gradient", "", f"{w['gradient_ratio']:.6f}"]]))
    section.differences.append(Difference(
        "L2: notes λ/2·‖w‖² vs Keras l2·Σw², same number",
        f"Keras penalty and gradient are {w['value_ratio']:.4f}× the notes' (use L2(λ/2))", w["value_ratio"]))
    check("L2 penalty and gradient vs Keras", w["check"])
    progress.finish()
    section.seconds = time.perf_counter() - start
    return section
