"""``numpy_lean``: the benchmark's training steps as one bare NumPy loop — what NumPy itself can do.

The same network, loss, optimizer and batches as refnn's ``fit`` on a workload, written once with
no layers, loss objects or optimizer pipeline, on buffers allocated before the first batch:

* forward, per hidden layer ``Z = H W + b``, ``H ← max(Z, 0)`` (in place); the output layer's
  ``Z = H W + b``, ``P = softmax(Z)`` (the row maximum subtracted first);
* the loss, Keras's categorical crossentropy of the probabilities,
  ``E = −(1/N) Σᵢ log clip(P[i, yᵢ], ε, 1 − ε)`` with ``ε = 1e-7``;
* backward from the logits, ``∂E/∂Z = (P − Y)/N`` (softmax and crossentropy fused, as refnn
  and Keras do), then per layer ``∂E/∂W = Hᵀ δ``, ``∂E/∂b = Σ_rows δ``,
  ``δ_below = (δ Wᵀ) ⊙ [H > 0]``;
* Adam with Keras's arithmetic (the order refnn's ``Adam.update_step`` uses), on one flat vector
  of all parameters, block by block (``BLOCK_BYTES`` per array, so that a block's arrays stay in
  cache across the passes; one ufunc call per pass and block):
  ``m ← m + (g − m)(1 − β₁)``, ``v ← v + (g² − v)(1 − β₂)``,
  ``W ← W − (m·lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ)) / (√v + ε̂)``;
* shuffled consecutive batches, the last one partial (its own buffers, its loss averaged over
  its own rows); the epoch loss is the row-weighted mean of the batch losses (refnn's and Keras's
  ``history["loss"]``).

``LeanMLP.from_refnn`` copies a refnn model's initial weights, so that with the model's shuffle
orders (``next_shuffle_orders``) both train the same steps from the same start.
"""

from __future__ import annotations

import numpy as np

from comparisons.bench.workloads import LEARNING_RATE, make_data, refnn_model, targets, time_epochs
from refnn.utils.packing import BLOCK_BYTES
from refnn.utils.scalars import power

__all__ = ["LeanMLP", "worker_numpy_lean", "lean_training_memory"]

_CLIP_EPSILON = 1e-7  # Keras's backend epsilon, the probability clip of categorical_crossentropy


class _BatchBuffers:
    """Everything one batch of ``rows`` rows writes, allocated once per batch size."""

    def __init__(self, rows: int, sizes: list[int], dtype):
        self.x = np.empty((rows, sizes[0]), dtype)
        self.y = np.empty((rows, sizes[-1]), dtype)
        self.labels = np.empty(rows, np.int64)
        self.outputs = [np.empty((rows, s), dtype) for s in sizes[1:]]  # H per hidden layer, then P
        self.deltas = [np.empty((rows, s), dtype) for s in sizes[1:]]  # δ per layer
        self.masks = [np.empty((rows, s), bool) for s in sizes[1:-1]]
        self.row_max = np.empty((rows, 1), dtype)
        self.picked = np.empty(rows, dtype)
        self.row_index = np.arange(rows)


class LeanMLP:
    """A ReLU MLP with a softmax output trained by Adam (Keras's form), float32, no abstractions.

    Args:
        weights: ``[W0 (in, out), b0, W1, b1, ...]`` (refnn's and Keras's order); copied.
        learning_rate, beta_1, beta_2, epsilon: Adam's constants (Keras's defaults).
    """

    def __init__(self, weights, learning_rate: float = LEARNING_RATE, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7):
        self.dtype = np.dtype(weights[0].dtype)
        dt = self.dtype.type
        self.sizes = [weights[0].shape[0], *(w.shape[1] for w in weights[0::2])]
        total = sum(w.size for w in weights)
        self.flat = np.empty(total, self.dtype)
        self.grad_flat = np.empty(total, self.dtype)
        self.params = _views(self.flat, weights)
        self.grads = _views(self.grad_flat, weights)
        for view, value in zip(self.params, weights):
            view[...] = value
        self.momentum, self.velocity = np.zeros(total, self.dtype), np.zeros(total, self.dtype)
        step = max(1, BLOCK_BYTES // self.dtype.itemsize)
        self.blocks = [slice(start, min(start + step, total)) for start in range(0, total, step)]
        self.work, self.denominator = np.empty(min(step, total), self.dtype), np.empty(min(step, total), self.dtype)
        self.lr, self.beta_1, self.beta_2 = dt(learning_rate), dt(beta_1), dt(beta_2)
        self.one_minus_beta_1, self.one_minus_beta_2 = dt(1.0 - beta_1), dt(1.0 - beta_2)
        self.epsilon = dt(epsilon)
        self._clip_low, self._clip_high = dt(_CLIP_EPSILON), dt(1.0 - _CLIP_EPSILON)
        self.iterations = 0
        self._buffers: dict[int, _BatchBuffers] = {}

    @classmethod
    def from_refnn(cls, model) -> "LeanMLP":
        """The same initial weights and Adam constants as a compiled refnn model."""
        opt = model.optimizer
        return cls(model.get_weights(), learning_rate=float(opt.learning_rate), beta_1=opt.beta_1,
                   beta_2=opt.beta_2, epsilon=opt.epsilon)

    def get_weights(self) -> list[np.ndarray]:
        return [p.copy() for p in self.params]

    def train_epoch(self, x, y, labels, order, batch_size: int) -> float:
        """One pass over ``order``'s consecutive batches; returns the row-weighted mean loss."""
        n = order.shape[0]
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            buffers = self._buffers_for(idx.shape[0])
            np.take(x, idx, axis=0, out=buffers.x)
            np.take(y, idx, axis=0, out=buffers.y)
            np.take(labels, idx, out=buffers.labels)
            total += idx.shape[0] * self.train_batch(buffers)
        return total / n

    def train_batch(self, b: _BatchBuffers) -> float:
        loss = self._forward_and_loss(b)
        self._backward(b)
        self._adam_step()
        return loss

    def _buffers_for(self, rows: int) -> _BatchBuffers:
        buffers = self._buffers.get(rows)
        if buffers is None:
            buffers = self._buffers[rows] = _BatchBuffers(rows, self.sizes, self.dtype)
        return buffers

    def _forward_and_loss(self, b: _BatchBuffers) -> float:
        h = b.x
        for i, out in enumerate(b.outputs):
            np.matmul(h, self.params[2 * i], out=out)
            out += self.params[2 * i + 1]
            if i < len(b.outputs) - 1:
                np.maximum(out, 0, out=out)
            h = out
        probs = b.outputs[-1]  # logits, softmax in place
        # ufunc.reduce directly: np.max/np.sum's Python wrappers cost more than a 32-row reduction
        np.maximum.reduce(probs, axis=1, keepdims=True, out=b.row_max)
        probs -= b.row_max
        np.exp(probs, out=probs)
        np.add.reduce(probs, axis=1, keepdims=True, out=b.row_max)
        probs /= b.row_max
        # E = −mean log clip(P[i, yᵢ], ε, 1 − ε)
        np.maximum(probs[b.row_index, b.labels], self._clip_low, out=b.picked)
        np.minimum(b.picked, self._clip_high, out=b.picked)
        np.log(b.picked, out=b.picked)
        return -float(np.add.reduce(b.picked) / self.dtype.type(b.picked.shape[0]))

    def _backward(self, b: _BatchBuffers) -> None:
        delta = b.deltas[-1]
        # ∂E/∂Z = (P − Y)/N
        np.subtract(b.outputs[-1], b.y, out=delta)
        delta /= self.dtype.type(delta.shape[0])
        for i in range(len(b.outputs) - 1, -1, -1):
            below = b.x if i == 0 else b.outputs[i - 1]
            np.matmul(below.T, delta, out=self.grads[2 * i])
            np.add.reduce(delta, axis=0, out=self.grads[2 * i + 1])
            if i > 0:
                # δ_below = (δ Wᵀ) ⊙ [H > 0]
                np.matmul(delta, self.params[2 * i].T, out=b.deltas[i - 1])
                np.greater(below, 0, out=b.masks[i - 1])
                b.deltas[i - 1] *= b.masks[i - 1]
                delta = b.deltas[i - 1]

    def _adam_step(self) -> None:
        """refnn's ``Adam.update_step`` (``epsilon_placement="sqrt_v"``), operation for operation."""
        dt = self.dtype.type
        one, t = dt(1.0), self.iterations + 1
        # β^t in float64, rounded once (TensorFlow's correctly rounded pow)
        beta_1_power = power(self.beta_1, t)
        beta_2_power = power(self.beta_2, t)
        alpha = self.lr * np.sqrt(one - beta_2_power) / (one - beta_1_power)
        for block in self.blocks:
            g, m, v, p = self.grad_flat[block], self.momentum[block], self.velocity[block], self.flat[block]
            size = p.shape[0]
            work, denominator = self.work[:size], self.denominator[:size]
            np.subtract(g, m, out=work)
            work *= self.one_minus_beta_1
            m += work
            np.square(g, out=work)
            np.subtract(work, v, out=work)
            work *= self.one_minus_beta_2
            v += work
            np.multiply(m, alpha, out=work)
            np.sqrt(v, out=denominator)
            denominator += self.epsilon
            work /= denominator
            p -= work
        self.iterations += 1


def _views(flat: np.ndarray, like) -> list[np.ndarray]:
    """Consecutive views of ``flat`` shaped like each array of ``like``."""
    views, offset = [], 0
    for array in like:
        views.append(flat[offset:offset + array.size].reshape(array.shape))
        offset += array.size
    return views


def worker_numpy_lean(x, labels, hidden, batch_size, epochs):
    """The bare loop, one epoch per call, each epoch drawing its permutation (as ``fit`` does)."""
    lean = LeanMLP.from_refnn(refnn_model(x, hidden))
    y = targets(labels)
    rng = np.random.default_rng(0)
    return time_epochs(lambda _: lean.train_epoch(x, y, labels, rng.permutation(x.shape[0]), batch_size), epochs)


def lean_training_memory(x, labels, hidden, batch_size) -> float:
    """Bytes that building and training the bare loop for one epoch allocate on top of the data
    (``tracemalloc``, as ``refnn_training_memory`` measures refnn)."""
    import tracemalloc

    y = targets(labels)
    model = refnn_model(x, hidden)
    tracemalloc.start()
    lean = LeanMLP.from_refnn(model)
    lean.train_epoch(x, y, labels, np.random.default_rng(0).permutation(x.shape[0]), batch_size)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


if __name__ == "__main__":  # a quick look: python -m comparisons.bench.lean
    features, classes = make_data("W1")
    print(worker_numpy_lean(features, classes, (64, 64), 32, 4))
