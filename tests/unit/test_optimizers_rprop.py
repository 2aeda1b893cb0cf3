"""Rprop, step by step by hand: the four variants on one weight with a gradient sign flip.

One weight, ``w₀ = 1``, Δ₀ = 0.1, η⁺ = 1.2, η⁻ = 0.5 and the gradient sequence
``g = +2, +1, +3, −1, +0.5`` (the flip is at step 4). Expected values are written as the float
expressions the rule evaluates, with the arithmetic in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

import refnn
from refnn import layers
from refnn.optimizers import Rprop

GRADS = [2.0, 1.0, 3.0, -1.0, 0.5]


def run(variant, losses=None, **kwargs):
    opt = Rprop(variant, learning_rate=0.1, **kwargs)
    params = {"w": np.array([1.0])}
    weights, steps = [], []
    for i, g in enumerate(GRADS):
        opt.apply(params, {"w": np.array([g])}, loss=None if losses is None else losses[i])
        weights.append(params["w"][0])
        steps.append(opt.state["w"]["step_size"][0])
    return weights, steps


# the first three steps are the same for every variant (no sign change yet)
W1 = 1.0 - 0.1            # t=1: g₀·g₁ = 0·2 = 0 → Δ = Δ₀ = 0.1; w = 1 − sign(2)·0.1 = 0.9
D2 = 0.1 * 1.2            # t=2: 2·1 > 0 → Δ = 0.1·1.2 = 0.12
W2 = W1 - D2              #      w = 0.9 − 0.12 = 0.78
D3 = D2 * 1.2             # t=3: 1·3 > 0 → Δ = 0.12·1.2 = 0.144
W3 = W2 - D3              #      w = 0.78 − 0.144 = 0.636
D4 = D3 * 0.5             # t=4: 3·(−1) < 0 → Δ = 0.144·0.5 = 0.072 (every variant)


def test_rprop_plus_backtracks_exactly_to_the_previous_weight():
    weights, steps = run("rprop+")
    assert weights[:3] == [W1, W2, W3] and steps[:3] == [0.1, D2, D3]
    # t=4: sign flip → undo the last step: w returns to 0.78, *exactly*; the stored g becomes 0
    assert weights[3] == W2 and steps[3] == D4
    # t=5: stored 0 · 0.5 = 0 → Δ kept (0.072), plain step: w = 0.78 − 0.072 = 0.708
    assert weights[4] == W2 - D4 and steps[4] == D4


def test_rprop_minus_moves_with_the_new_sign():
    weights, steps = run("rprop-")
    assert weights[:3] == [W1, W2, W3]
    # t=4: Δ = 0.072, no backtracking, w = 0.636 − sign(−1)·0.072 = 0.708; g = −1 is stored
    assert weights[3] == W3 + D4 and steps[3] == D4
    # t=5: (−1)·0.5 < 0 again → Δ = 0.072·0.5 = 0.036; w = 0.708 − 0.036 = 0.672
    assert weights[4] == W3 + D4 - D4 * 0.5 and steps[4] == D4 * 0.5


def test_irprop_minus_does_not_move_on_the_flip():
    weights, steps = run("irprop-")
    # t=4: Δ = 0.072 and g := 0, so sign(0)·Δ = 0: the weight stays at 0.636
    assert weights[3] == W3 and steps[3] == D4
    # t=5: 0·0.5 = 0 → Δ kept, w = 0.636 − 0.072 = 0.564
    assert weights[4] == W3 - D4 and steps[4] == D4


def test_irprop_plus_backtracks_only_when_the_loss_went_up():
    # losses E₁..E₅ passed to apply: E₄ = 3.5 > E₃ = 3 → undo the step, like Rprop+
    weights, _ = run("irprop+", losses=[5.0, 4.0, 3.0, 3.5, 3.4])
    assert weights[3] == W2 and weights[4] == W2 - D4
    # E₄ = 2.5 < E₃: no undo, no move (g := 0), then a plain step from 0.636
    weights, steps = run("irprop+", losses=[5.0, 4.0, 3.0, 2.5, 2.4])
    assert weights[3] == W3 and weights[4] == W3 - D4 and steps[3] == D4


def test_irprop_plus_without_a_loss_raises_before_touching_the_weights():
    opt = Rprop("irprop+", weight_decay=0.1)
    params = {"w": np.ones(1)}
    with pytest.raises(ValueError, match="iRprop\\+ compares the loss.*Received: loss=None"):
        opt.apply(params, {"w": np.ones(1)})
    assert params["w"][0] == 1.0 and opt.iterations == 0


def test_step_sizes_are_clamped_to_min_and_max():
    opt = Rprop("rprop-", learning_rate=0.1, max_step=0.13, min_step=0.09)
    params = {"w": np.zeros(1)}
    sizes = []
    for g in [1.0, 1.0, 1.0, -1.0, 1.0]:
        opt.apply(params, {"w": np.array([g])})
        sizes.append(opt.state["w"]["step_size"][0])
    # 0.1 → min(0.12, 0.13) = 0.12 → min(0.144, 0.13) = 0.13 → max(0.065, 0.09) = 0.09 → max(0.045, 0.09)
    assert sizes == [0.1, 0.1 * 1.2, 0.13, 0.09, 0.09]


def test_a_zero_gradient_neither_moves_nor_adapts():
    opt = Rprop("rprop+")
    params = {"w": np.array([1.0, 1.0])}
    opt.apply(params, {"w": np.array([0.0, 1.0])})
    opt.apply(params, {"w": np.array([0.0, 1.0])})
    assert params["w"][0] == 1.0 and opt.state["w"]["step_size"][0] == 0.1
    assert params["w"][1] == 1.0 - 0.1 - 0.1 * 1.2


def test_every_element_follows_its_own_sign_history():
    """Three weights at once, each in a different case, equal to three separate runs."""
    grads = [[2.0, -1.0, 1.0], [1.0, 1.0, 0.0], [3.0, 2.0, -1.0], [-1.0, 1.0, 1.0]]
    joint = Rprop("rprop+")
    params = {"w": np.ones(3)}
    for g in grads:
        joint.apply(params, {"w": np.array(g)})
    for i in range(3):
        alone = Rprop("rprop+")
        single = {"w": np.ones(1)}
        for g in grads:
            alone.apply(single, {"w": np.array([g[i]])})
        assert single["w"][0] == params["w"][i]


def _xor_model(optimizer):
    model = refnn.Sequential([layers.Dense(4, activation="tanh"), layers.Dense(1, activation="sigmoid")],
                             input_dim=2, seed=3)
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    return model, x, y


def test_fit_refuses_mini_batches():
    model, x, y = _xor_model(Rprop())
    with pytest.raises(ValueError, match="Rprop is a full-batch method.*batch_size >= 4.*Received: batch_size=2"):
        model.fit(x, y, batch_size=2, epochs=1, verbose=0)


@pytest.mark.parametrize("variant", ["rprop+", "rprop-", "irprop+", "irprop-"])
def test_fit_full_batch_learns_xor(variant):
    model, x, y = _xor_model(Rprop(variant))
    history = model.fit(x, y, batch_size=4, epochs=150, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
