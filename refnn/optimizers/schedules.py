"""Learning-rate schedules, Keras's step convention.

A schedule is called with ``step = optimizer.iterations`` *before* the update, so the first
update uses ``schedule(0)`` (Keras: ``learning_rate(self._iterations)``).
"""

from __future__ import annotations

__all__ = ["LearningRateSchedule", "serialize", "deserialize"]


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate`` plus ``get_config``."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> "LearningRateSchedule":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _registry() -> dict:
    def walk(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from walk(sub)

    return {cls.__name__: cls for cls in walk(LearningRateSchedule)}


def serialize(schedule: LearningRateSchedule) -> dict:
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict) -> LearningRateSchedule:
    classes = _registry()
    name = config.get("class_name")
    if name not in classes:
        raise ValueError(
            f"Unknown learning-rate schedule. `class_name` must be one of {sorted(classes)}. "
            f"Received: class_name={name!r}"
        )
    return classes[name].from_config(config["config"])
