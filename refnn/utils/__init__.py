"""Utilities: parameter packing, gradient checks, data helpers, argument validation, tolerances —
and Keras's ``keras.utils`` names a training script uses: ``set_random_seed``, ``to_categorical``."""

from refnn.utils.labels import to_categorical
from refnn.utils.seeding import set_random_seed
from refnn.utils.unsupported import missing_name

__all__ = ["set_random_seed", "to_categorical"]

__getattr__ = missing_name("refnn.utils", "set_random_seed and to_categorical", {
    "plot_model": "refnn.graph draws a model's computation graph: refnn.graph.trace(model, x, y).save('graph.svg').",
    "normalize": "Divide by the norm yourself: x / np.linalg.norm(x, axis=-1, keepdims=True).",
})
