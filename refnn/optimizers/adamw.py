"""AdamW (Loshchilov & Hutter 2019): Adam plus decoupled weight decay, on by default."""

from __future__ import annotations

from refnn.optimizers.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """Adam with decoupled weight decay: per step ``W ← W − W·wd·lr`` (the base pipeline, before
    the update), then the Adam step of ``Adam`` — exactly Keras's ``AdamW`` (default
    ``weight_decay=0.004``, which must not be ``None``).

    The decay is decoupled: it is not added to the gradient, so Adam's ``1/√v`` does not rescale
    it (unlike an L2 penalty). Keras multiplies by the learning rate ``lr`` (not by ``lr/lr₀`` as the
    paper's schedule multiplier ``η_t`` would).

    Keras float64 rounds ``weight_decay`` and the β's inside the bias-correction powers through
    float32; ``keras_float32_constants`` does the same.

    Args:
        learning_rate: positive float or schedule (Keras default 0.001).
        weight_decay: ``wd ≥ 0`` (Keras default 0.004).
        beta_1, beta_2, epsilon, amsgrad, epsilon_placement: as in ``Adam``.
        **kwargs: the other base options (clipping, ``keras_float32_constants``, ``name``).
    """

    name = "AdamW"

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7, amsgrad: bool = False,
                 epsilon_placement: str = "sqrt_v", **kwargs):
        if weight_decay is None:
            raise ValueError("`weight_decay` must be a float for AdamW. Received: weight_decay=None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, epsilon_placement=epsilon_placement, weight_decay=weight_decay,
                         **kwargs)
