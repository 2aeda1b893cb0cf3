"""Keras implementations of what stock Keras lacks, registered for ``keras.saving``.

* ``Rprop`` (rprop+, rprop−, irprop+, irprop−) and ``Quickprop``: ``keras.optimizers.Optimizer``
  subclasses whose steps equal refnn's ``optimizers.Rprop`` / ``optimizers.Quickprop``.
* ``LevenbergMarquardtModel``: a ``keras.Sequential`` whose ``train_step`` is one
  Levenberg–Marquardt epoch, as refnn's ``optimizers.LevenbergMarquardt``.
* ``SumSquaredError``: the loss ``½ Σ e²`` (refnn's ``"sse"``).

Importing ``keras_bridge`` registers them, so ``keras.models.load_model`` finds them, and names
the optimizers as Keras names its own: ``compile(optimizer="rprop")``, ``"quickprop"``. (Keras
looks loss names up in its own table only: pass ``loss=plugins.SumSquaredError()``.)
"""

import keras

from keras_bridge.plugins.levenberg_marquardt import LevenbergMarquardtModel
from keras_bridge.plugins.losses import SumSquaredError
from keras_bridge.plugins.quickprop import Quickprop
from keras_bridge.plugins.rprop import Rprop

keras.saving.get_custom_objects().update({"rprop": Rprop, "quickprop": Quickprop})

__all__ = ["Rprop", "Quickprop", "LevenbergMarquardtModel", "SumSquaredError"]
