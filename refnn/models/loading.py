"""``refnn.load_model``: a model archive written by ``Sequential.save`` back into a model."""

from __future__ import annotations

import os

from refnn import metrics as metrics_module
from refnn.models import saving
from refnn.models.sequential import Sequential

__all__ = ["load_model", "model_from_config"]


def model_from_config(config: dict, compile: bool = True, custom_objects: dict | None = None) -> Sequential:
    """Rebuild the (unweighted) model described by ``saving.model_config``; ``custom_objects``
    maps the names of the user's own classes (a custom ``Loss``) to the classes."""
    custom_objects = _check_custom_objects(custom_objects)
    if config.get("class_name") != "Sequential":
        raise ValueError(f"Cannot load the model: unknown model class {config.get('class_name')!r}")
    inner = config["config"]
    model = Sequential(
        [saving.deserialize_object(spec, custom_objects) for spec in inner["layers"]],
        input_dim=inner["input_dim"],
        seed=inner["seed"],
        dtype=inner["dtype"],
        name=inner["name"],
    )
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile(
            optimizer=saving.deserialize_object(compile_config["optimizer"], custom_objects),
            loss=saving.deserialize_object(compile_config["loss"], custom_objects),
            metrics=[metrics_module.get(name) for name in compile_config["metrics"]],
            weighted_metrics=[metrics_module.get(name) for name in compile_config.get("weighted_metrics", [])],
        )
    return model


def _check_custom_objects(custom_objects) -> dict:
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict) or not all(
            isinstance(k, str) and isinstance(v, type) for k, v in custom_objects.items()):
        raise TypeError(
            "`custom_objects` must map class names to classes, e.g. {'LogCosh': LogCosh}. "
            f"Received: custom_objects={custom_objects!r}"
        )
    return custom_objects


def load_model(path, custom_objects: dict | None = None, compile: bool = True) -> Sequential:
    """Rebuild a model saved by ``Sequential.save``: same architecture, weights, random
    generators and (if ``compile``) optimizer — configuration and state —, loss and metrics.
    Predictions are identical, and training continues as the saved model would have.
    ``custom_objects={"MyLoss": MyLoss}`` names the classes of your own the model uses (Keras's
    argument, in Keras's position).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: naming the file, when it is not a readable refnn model archive.
    """
    custom_objects = _check_custom_objects(custom_objects)
    config, weights, state = saving.read_model_archive(path)
    what = f"The file {os.fspath(path)!r}"
    try:
        model = model_from_config(config, compile=compile, custom_objects=custom_objects)
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
