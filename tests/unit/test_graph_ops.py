"""refnn.graph: each operation's vector–Jacobian product against central finite differences, the
lecture's scalar examples worked by hand, and the errors of misuse."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refnn import graph
from refnn.graph import losses as graph_losses
from refnn.utils.gradcheck import numerical_gradient
from refnn.utils.tolerance import FINITE_DIFFERENCE_RTOL, max_abs_difference


def gradient_check(build, *arrays, seed: int = 0):
    """The graph's gradients of ``E = Σ R ⊙ build(*nodes)`` (R fixed, random) against central
    differences of the same scalar, for every input array. Returns the relative errors.

    Central differences carry round-off ≈ ε·|E|/h ≈ 2e-10·|E| per entry, so a gradient below
    1e-3·max(1, |E|) (a saturated tanh) is measured against that floor, not its own tiny scale —
    the rule of ``test_properties.test_gradients_equal_finite_differences``."""
    nodes = [graph.value(a.copy(), f"in{i}") for i, a in enumerate(arrays)]
    out = build(*nodes)
    weights = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weights)
    errors = []
    for node, array in zip(nodes, arrays):
        work = array.copy()

        def energy():
            return float(np.sum(build(*[graph.value(work if n is node else n.value) for n in nodes]).value * weights))

        numeric = numerical_gradient(energy, work)
        floor = 1e-3 * max(1.0, abs(energy()))
        scale = max(float(np.max(np.abs(numeric), initial=0.0)), floor)
        errors.append(max_abs_difference(node.grad, numeric) / scale)
    return errors


RNG = np.random.default_rng(7)
A23, B23, C13, W32 = (RNG.standard_normal(s) for s in [(2, 3), (2, 3), (1, 3), (3, 2)])
POSITIVE = np.abs(A23) + 0.5

OPS = {
    "add (broadcast row)": (lambda a, b: a + b, A23, C13[0]),
    "add (broadcast column)": (lambda a, b: graph.add(a, b), A23, RNG.standard_normal((2, 1))),
    "subtract": (lambda a, b: a - b, A23, B23),
    "multiply (broadcast)": (lambda a, b: a * b, A23, C13),
    "divide": (lambda a, b: a / b, A23, POSITIVE),
    "negative": (lambda a: -a, A23),
    "power": (lambda a: a ** 3, A23),
    "power (root)": (lambda a: a ** 0.5, POSITIVE),
    "exponential (2 ** a)": (lambda a: 2 ** a, A23),
    "matmul": (lambda a, w: a @ w, A23, W32),
    "transpose": (lambda a: a.T, A23),
    "sum": (lambda a: a.sum(), A23),
    "sum axis 0": (lambda a: a.sum(axis=0), A23),
    "mean axis 1 keepdims": (lambda a: a.mean(axis=1, keepdims=True), A23),
    "exp": (lambda a: a.exp(), A23),
    "log": (lambda a: a.log(), POSITIVE),
    "relu": (lambda a: a.relu(), A23),
    "sigmoid": (lambda a: a.sigmoid(), 3 * A23),
    "tanh": (lambda a: a.tanh(), A23),
    "softmax": (lambda a: a.softmax(), A23),
    "dropout": (lambda a: graph.dropout(a, np.array([[1, 0, 1], [0, 1, 1]]), 0.25), A23),
    "clip": (lambda a: graph.clip(a, -0.5, 0.5), A23),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_each_op_vjp_equals_finite_differences(name):
    build, *arrays = OPS[name]
    for error in gradient_check(build, *arrays):
        assert error < FINITE_DIFFERENCE_RTOL, (name, error)


LOSSES = {
    "mse": (graph_losses.mean_squared_error, "real"),
    "mae": (graph_losses.mean_absolute_error, "real"),
    "sse": (graph_losses.sum_squared_error, "real"),
    "bce": (graph_losses.binary_crossentropy, "binary"),
    "bce logits": (lambda t, p: graph_losses.binary_crossentropy(t, p, from_logits=True), "binary-logits"),
    "bce smoothed": (lambda t, p: graph_losses.binary_crossentropy(t, p, label_smoothing=0.2), "binary"),
    "cce": (graph_losses.categorical_crossentropy, "simplex"),
    "cce unnormalised": (graph_losses.categorical_crossentropy, "positive"),
    "cce logits smoothed": (lambda t, p: graph_losses.categorical_crossentropy(t, p, True, 0.1), "logits"),
    "scce": (graph_losses.sparse_categorical_crossentropy, "ids"),
    "scce logits": (lambda t, p: graph_losses.sparse_categorical_crossentropy(t, p, True), "ids-logits"),
}


def _loss_data(kind: str):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((4, 3))
    probabilities = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    onehot = np.eye(3)[[0, 2, 1, 2]]
    return {
        "real": (rng.standard_normal((4, 3)), z),
        "binary": (rng.integers(0, 2, (4, 3)).astype(float), 1 / (1 + np.exp(-z))),
        "binary-logits": (rng.integers(0, 2, (4, 3)).astype(float), z),
        "simplex": (onehot, probabilities),
        "positive": (onehot, probabilities * 1.7),
        "logits": (onehot, z),
        "ids": (np.array([0, 2, 1, 2]), probabilities),
        "ids-logits": (np.array([0, 2, 1, 2]), z),
    }[kind]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_each_loss_vjp_equals_finite_differences(name):
    op, kind = LOSSES[name]
    targets, predictions = _loss_data(kind)
    [error] = gradient_check(lambda p: op(targets, p), predictions)
    assert error < FINITE_DIFFERENCE_RTOL, (name, error)


@pytest.mark.parametrize("penalty", [graph_losses.l1_penalty, graph_losses.l2_penalty])
def test_penalties_equal_finite_differences(penalty):
    [error] = gradient_check(lambda w: penalty(w, 0.03), A23)
    assert error < FINITE_DIFFERENCE_RTOL


def test_the_lectures_scalar_example_worked_by_hand():
    # f = (a + b)·c at a = 2, b = −3, c = 10: e = a + b = −1, f = −10;
    # ∂f/∂c = e = −1, ∂f/∂e = c = 10, and the add passes 10 to a and b.
    a, b, c = graph.value(2.0, "a"), graph.value(-3.0, "b"), graph.value(10.0, "c")
    e = (a + b).named("e")
    f = (e * c).named("f")
    f.backward()
    assert float(f.value) == -10.0
    assert (float(a.grad), float(b.grad), float(c.grad), float(e.grad), float(f.grad)) == (10, 10, -1, 10, 1)


def test_a_node_used_twice_sums_both_paths():
    # f = x·x + 3x at x = 4: ∂f/∂x = 2x + 3 = 11 (two uses in the product, one in 3x)
    x = graph.value(4.0, "x")
    f = x * x + 3 * x
    f.backward()
    assert float(x.grad) == 11.0


def test_sigmoid_neuron_of_cs231n():
    # f = σ(w0·x0 + w1·x1 + w2) at w = (2, −3, −3), x = (−1, −2): the input to σ is 1, f = 0.731;
    # ∂f/∂(input) = f(1 − f) = 0.1966, so ∂f/∂w0 = x0·0.1966 = −0.1966, ∂f/∂x0 = w0·0.1966 = 0.3932
    w0, x0, w1, x1, w2 = (graph.value(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = (w0 * x0 + w1 * x1 + w2).sigmoid()
    f.backward()
    s = 1 / (1 + np.exp(-1.0))
    assert float(f.value) == pytest.approx(s, abs=1e-15)
    assert float(w0.grad) == pytest.approx(-s * (1 - s), abs=1e-15)
    assert float(x0.grad) == pytest.approx(2 * s * (1 - s), abs=1e-15)
    assert float(w2.grad) == pytest.approx(s * (1 - s), abs=1e-15)


def test_power_zero_has_zero_gradient_even_at_zero():
    a = graph.value(np.array([0.0, 2.0]), "a")
    (a ** 0).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.0])


def test_gradients_are_arrays_even_for_scalars():
    a = graph.value(2.0, "a")
    (a * a).backward()
    assert isinstance(a.grad, np.ndarray) and a.grad.shape == () and float(a.grad) == 4.0


def test_a_graph_backward_clears_every_node_it_draws():
    """A node drawn beside the output (``also_show``) keeps a gradient from a pass started at it;
    the graph's own backward clears it, so its table and drawing show one pass."""
    a = graph.value(np.array([1.0, 2.0]), "a")
    y = a.sigmoid().named("y")
    f = (a * a).sum().named("f")
    g = graph.Graph(f, also_show=(y,))
    y.backward(np.ones(2))
    assert y.grad is not None
    g.backward()
    assert y.grad is None
    np.testing.assert_array_equal(a.grad, [2.0, 4.0])


def test_unnamed_nodes_are_labelled_by_their_place_in_the_graph():
    a = graph.value(1.0, "a")
    g = graph.Graph((a * 2.0 + 1.0).named("f"))
    assert list(g.labels.values()) == ["a", "constant#1", "multiply#2", "constant#3", "f"]
    assert "multiply#2" in str(g)


def test_backward_twice_gives_the_same_gradients():
    a = graph.value(np.array([1.0, -2.0]), "a")
    f = (a * a).sum()
    f.backward()
    first = a.grad.copy()
    f.backward()
    np.testing.assert_array_equal(a.grad, first)


def test_softmax_jacobian_is_the_lecture_matrix():
    s = np.array([[0.7, 0.2, 0.1]])
    j = graph.ops.softmax_jacobian(s)[0]
    np.testing.assert_allclose(j, np.diag(s[0]) - np.outer(s[0], s[0]), rtol=0, atol=0)
    assert np.allclose(j.sum(axis=0), 0)  # the probabilities sum to 1 whatever the logits


def test_the_graph_lookup_and_its_errors():
    a, b = graph.value(1.0, "a"), graph.value(2.0, "b")
    g = graph.Graph((a * b).named("f"))
    assert g["a"] is a and "f" in g and g.names == ["a", "b", "f"]
    with pytest.raises(KeyError, match="No node named 'z'.*a, b, f"):
        g["z"]
    with pytest.raises(ValueError, match="Two nodes of the graph are named 'a'"):
        graph.Graph(a + graph.value(3.0, "a"))
    with pytest.raises(TypeError, match="`output` must be a refnn.graph Node. Received: output=3"):
        graph.Graph(3)
    with pytest.raises(TypeError, match=r"`also_show` must hold refnn.graph Nodes. Received: also_show\[0\]=3"):
        graph.Graph(a, also_show=[3])
    with pytest.raises(ValueError, match=r"`params`\['w'\] is node 'b', which is not in the graph"):
        graph.Graph(a, params={"w": b})


def test_errors_of_misuse_name_the_argument():
    v = graph.value(np.ones((2, 3)), "v")
    with pytest.raises(ValueError, match=r"backward\(\) without `grad` needs a scalar output; node 'v' has shape"):
        v.backward()
    with pytest.raises(ValueError, match=r"`grad` must have the node's shape \(2, 3\). Received: grad.shape=\(3,\)"):
        v.backward(np.ones(3))
    with pytest.raises(ValueError, match=r"matmul needs 2-D arrays with matching inner sizes.*\(2, 3\).*\(2, 3\)"):
        v @ v
    with pytest.raises(ValueError, match=r"`exponent` must be a float in \(-inf, inf\). Received: exponent=Node"):
        v ** v
    with pytest.raises(ValueError, match="A negative base has no real power 0.5"):
        graph.value(-4.0, "n") ** 0.5
    with pytest.raises(ValueError, match=r"`base` must be a float in \(0.0, inf\). Received: base=-2"):
        (-2) ** v
    with pytest.raises(ValueError, match="must be a number or a rectangular array"):
        graph.value([[1, 2], [3]])
    with pytest.raises(TypeError, match="`grad` must be a numeric array of the node's shape"):
        v.backward(grad="ab")
    with pytest.raises(ValueError, match="The dropout mask must hold 0 \\(dropped\\) and 1 \\(kept\\) only"):
        graph.dropout(v, 2 * np.ones((2, 3)), 0.5)
    with pytest.raises(ValueError, match="`rate` must be a float in .* Received: rate='a'"):
        graph.dropout(v, np.ones((2, 3)), "a")
    with pytest.raises(ValueError, match=r"class id in \[0, classes\) per row.*y_true=array\(\[-1\.,  0\.\]\)"):
        graph_losses.sparse_categorical_crossentropy(np.array([-1, 0]), np.full((2, 3), 1 / 3))
    with pytest.raises(TypeError, match="must be numeric. Received: value='x'"):
        graph.value("x")
    with pytest.raises(ValueError, match="`name` must be a non-empty string or None. Received: name=''"):
        graph.value(1.0, "")
    with pytest.raises(ValueError, match=r"The dropout mask must have the input's shape \(2, 3\)"):
        graph.dropout(v, np.ones(3), 0.5)
    with pytest.raises(ValueError, match=r"`rate` must be a float in \[0.0, 1.0\). Received: rate=1.0"):
        graph.dropout(v, np.ones((2, 3)), 1.0)
    with pytest.raises(ValueError, match="the targets must have the predictions' shape"):
        graph_losses.mean_squared_error(np.ones((2, 2)), v)


def test_numbers_and_arrays_meet_nodes_from_either_side():
    a = graph.value(np.array([1.0, 2.0]), "a")
    f = (np.array([3.0, 4.0]) * a + 1.0 - a / 2).sum()
    f.backward()
    np.testing.assert_array_equal(a.grad, [2.5, 3.5])
    assert f.op == "sum" and isinstance(f, graph.Node)


# ---- properties: random compositions of operations ----------------------------------------------
# exp and the square see a tanh first: chained, exp∘exp∘exp or x¹⁶ have third derivatives so large
# that central differences themselves lose the 1e-6 (the graph's derivative does not)
_UNARY = {"exp": lambda n: n.tanh().exp(), "tanh": graph.tanh, "sigmoid": graph.sigmoid,
          "softmax": graph.softmax, "square": lambda n: n.tanh() ** 2, "log1p-square": lambda n: (n * n + 1.0).log(),
          "negative": graph.negative, "transpose-back": lambda n: n.T.T}


@settings(max_examples=60)
@given(rows=st.integers(1, 4), cols=st.integers(1, 4), inner=st.integers(1, 4),
       chain=st.lists(st.sampled_from(sorted(_UNARY)), min_size=1, max_size=4),
       reduce_axis=st.sampled_from([None, 0, 1]), seed=st.integers(0, 2**16))
def test_random_compositions_equal_finite_differences(rows, cols, inner, chain, reduce_axis, seed):
    """``reduce(M ⊙ f_k(… f_1(X W + b)))`` for random shapes and chains of smooth ops (M fixed and
    random: a plain mean of a softmax is constant, and its zero gradient has no scale to compare)."""
    rng = np.random.default_rng(seed)
    x, w, b = rng.standard_normal((rows, inner)), rng.standard_normal((inner, cols)), rng.standard_normal(cols)
    m = rng.standard_normal((rows, cols))

    def build(xn, wn, bn):
        h = xn @ wn + bn
        for name in chain:
            h = _UNARY[name](h)
        return (h * m).mean(axis=reduce_axis)

    for error in gradient_check(build, x, w, b, seed=seed):
        assert error < FINITE_DIFFERENCE_RTOL
