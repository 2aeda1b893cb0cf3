"""Keras implementations of what stock Keras lacks, registered for ``keras.saving``.

* ``Rprop`` (rprop+, rprop−, irprop+, irprop−) and ``Quickprop``: ``keras.optimizers.Optimizer``
  subclasses whose steps equal refnn's ``optimizers.Rprop`` / ``optimizers.Quickprop``.
* ``LevenbergMarquardtModel``: a ``keras.Sequential`` whose ``train_step`` is one
  Levenberg–Marquardt epoch, as refnn's ``optimizers.LevenbergMarquardt``.
* ``SumSquaredError``: the loss ``½ Σ e²`` (refnn's ``"sse"``).
* ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad`` (``textbook``): Keras's optimizers with
  refnn's textbook conventions as one more option (EMA or trace momentum under a schedule, ε
  after the bias correction or outside the root, RMSprop's bias correction).

Importing ``keras_bridge`` registers them, so ``keras.models.load_model`` finds them, and names
the optimizers as Keras names its own: ``compile(optimizer="rprop")``, ``"quickprop"``. (Keras
looks loss names up in its own table only: pass ``loss=plugins.SumSquaredError()``.)
"""

import keras

from keras_bridge.plugins.levenberg_marquardt import LevenbergMarquardtModel
from keras_bridge.plugins.losses import SumSquaredError
from keras_bridge.plugins.quickprop import Quickprop
from keras_bridge.plugins.rprop import Rprop
from keras_bridge.plugins.textbook import SGD, Adagrad, Adam, AdamW, RMSprop

keras.saving.get_custom_objects().update({"rprop": Rprop, "quickprop": Quickprop})

__all__ = ["Rprop", "Quickprop", "LevenbergMarquardtModel", "SumSquaredError", "SGD", "Adam", "AdamW", "RMSprop",
           "Adagrad"]
