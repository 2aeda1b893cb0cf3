"""Named presets: Keras's defaults and the textbook forms of the same rules.

``optimizers.get(name, convention="textbook")`` builds ``cls(**TEXTBOOK[name])``. Each preset only
sets arguments of the one implementation (a convention flag, a constant), never a second copy of
an algorithm. Where the lecture gives no value the papers' is used, and ε = 1e-8 (Kingma & Ba)
wherever the textbook form puts ε outside the square root. Extra keyword arguments of ``get``
override a preset's values.

==========  =================================================================================
name        textbook preset (Keras default in brackets)
==========  =================================================================================
sgd         ``momentum_form="ema"`` — ``V ← μV + (1−μ)g; W ← W − lr·V`` [``m ← μm − lr·g``]
momentum    SGD with ``momentum=0.9, momentum_form="ema"`` [``momentum=0.9``, velocity form]
rmsprop     ``rho=0.999`` (as the course states), ε = 1e-8 outside the √ [ρ = 0.9, ε = 1e-7 inside]
adam        ``epsilon_placement="sqrt_v_hat"``, ε = 1e-8 (Algorithm 1) [ε = 1e-7 on √v]
adamw       as adam, ``weight_decay=0.004``
adagrad     ``initial_accumulator_value=0``, ε = 1e-8 outside the √ (Duchi et al.) [0.1, 1e-7 inside]
adadelta    ``learning_rate=1.0``, ε = 1e-6 (Zeiler: no learning rate) [lr = 0.001, ε = 1e-7]
adamax      ``learning_rate=0.002`` (Kingma & Ba §7.1) [0.001]
nadam       ``learning_rate=0.002``, ε = 1e-8 (Dozat) [0.001, 1e-7]
rprop       Riedmiller's defaults, as the default
quickprop   Fahlman's rule, as the default
==========  =================================================================================
"""

from __future__ import annotations

__all__ = ["KERAS", "TEXTBOOK", "CONVENTIONS", "upgrade_config"]

#: The Keras convention is every class's own defaults, plus the "momentum" shorthand.
KERAS: dict[str, dict] = {
    "momentum": {"momentum": 0.9},
}

TEXTBOOK: dict[str, dict] = {
    "sgd": {"momentum_form": "ema"},
    "momentum": {"momentum": 0.9, "momentum_form": "ema"},
    "rmsprop": {"rho": 0.999, "epsilon": 1e-8, "epsilon_placement": "outside_sqrt"},
    "adam": {"epsilon": 1e-8, "epsilon_placement": "sqrt_v_hat"},
    "adamw": {"epsilon": 1e-8, "epsilon_placement": "sqrt_v_hat"},
    "adagrad": {"initial_accumulator_value": 0.0, "epsilon": 1e-8, "epsilon_placement": "outside_sqrt"},
    "adadelta": {"learning_rate": 1.0, "epsilon": 1e-6},
    "adamax": {"learning_rate": 0.002},
    "nadam": {"learning_rate": 0.002, "epsilon": 1e-8},
}

CONVENTIONS = {"keras": KERAS, "textbook": TEXTBOOK}

#: option names and values of refnn 0.1's first files, renamed so that each value names the
#: mathematics: ``(old option, old value) → (option, value)``. Configs saved with the old names
#: still load.
_RENAMED = {
    ("momentum_form", "keras"): ("momentum_form", "velocity"),
    ("momentum_form", "pytorch"): ("momentum_form", "trace"),
    ("epsilon_form", "keras"): ("epsilon_placement", "sqrt_v"),
    ("epsilon_form", "paper"): ("epsilon_placement", "sqrt_v_hat"),
}


def upgrade_config(config: dict) -> dict:
    """``config`` with the renamed options and values of older saved files replaced."""
    out = {}
    for key, value in config.items():
        new_key, new_value = _RENAMED.get((key, value), (key, value)) if isinstance(value, str) else (key, value)
        out[new_key] = new_value
    return out
