"""The checks a model makes of the data it is given: built, the right widths, one target row per
input row, class ids for a sparse loss. One place for the messages ``fit``, ``evaluate``,
``predict`` and the batch methods give."""

from __future__ import annotations

import numpy as np

from refnn import losses as losses_module
from refnn.utils.validation import check_class_ids, check_finite_array

__all__ = ["DataChecks"]


class DataChecks:
    """Mixed into ``Sequential``; relies on its ``built``, ``input_dim``, ``dtype``, ``loss`` and
    ``output_dim``."""

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"This model has not been built yet, so `{what}` cannot run. Pass `input_dim=` to "
                "Sequential, call `model.build(input_dim)`, or call `fit` first."
            )

    def _check_x(self, x, name: str = "x") -> np.ndarray:
        self._require_built("predict" if name == "x" else name)
        x = check_finite_array(name, x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.input_dim:
            raise ValueError(
                f"`{name}` must have shape (N, {self.input_dim}) to match the model's input_dim="
                f"{self.input_dim}. Received: {name}.shape={x.shape}"
            )
        if x.shape[0] == 0:
            raise ValueError(f"`{name}` must have at least one row. Received: {name}.shape={x.shape}")
        return x

    def _check_y(self, y, n: int, name: str = "y") -> np.ndarray:
        y = check_finite_array(name, y)
        if y.ndim == 0 or y.shape[0] != n:
            raise ValueError(
                f"`{name}` must have one row per row of x ({n}). Received: {name}.shape={y.shape}"
            )
        units = self.output_dim
        if isinstance(self.loss, losses_module.SparseCategoricalCrossentropy):
            return check_class_ids(name, y, units)
        if y.ndim == 1 and units == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != units:
            raise ValueError(
                f"`{name}` must have shape (N, {units}) to match the model's output units={units}. "
                f"Received: {name}.shape={y.shape}"
            )
        return y.astype(self.dtype, copy=False)
