"""``refnn.load_model``: a model archive written by ``Sequential.save`` back into a model."""

from __future__ import annotations

import os

from refnn import metrics as metrics_module
from refnn.models import saving
from refnn.models.sequential import Sequential

__all__ = ["load_model", "model_from_config"]


def model_from_config(config: dict, compile: bool = True) -> Sequential:
    """Rebuild the (unweighted) model described by ``saving.model_config``."""
    if config.get("class_name") != "Sequential":
        raise ValueError(f"Cannot load the model: unknown model class {config.get('class_name')!r}")
    inner = config["config"]
    model = Sequential(
        [saving.deserialize_object(spec) for spec in inner["layers"]],
        input_dim=inner["input_dim"],
        seed=inner["seed"],
        dtype=inner["dtype"],
        name=inner["name"],
    )
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile(
            optimizer=saving.deserialize_object(compile_config["optimizer"]),
            loss=saving.deserialize_object(compile_config["loss"]),
            metrics=[metrics_module.get(name) for name in compile_config["metrics"]],
        )
    return model


def load_model(path, compile: bool = True) -> Sequential:
    """Rebuild a model saved by ``Sequential.save``: same architecture, weights, random
    generators and (if ``compile``) optimizer — configuration and state —, loss and metrics.
    Predictions are identical, and training continues as the saved model would have.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: naming the file, when it is not a readable refnn model archive.
    """
    config, weights, state = saving.read_model_archive(path)
    what = f"The file {os.fspath(path)!r}"
    try:
        model = model_from_config(config, compile=compile)
    except (KeyError, TypeError, AttributeError) as exc:  # a config that is JSON but not a model's
        raise ValueError(f"{what} is damaged: its config.json does not describe a refnn model ({exc!r})") from None
    if model.built:
        saving.assign_weights(model, weights, f"the file {os.fspath(path)!r}")
    elif weights:
        raise ValueError(f"{what} holds weights for a model that was never built")
    if state is not None:
        try:
            saving.restore_training_state(model, *state)
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"{what} is damaged: its training state cannot be restored ({exc})") from None
    return model
