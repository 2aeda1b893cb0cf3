"""``from refnn import keras``: Keras's top-level names, served by refnn.

The same names as ``import refnn as keras`` — this module only re-exports them (``refnn.__all__``),
so a script can keep the word ``keras`` while its first line says where the implementation comes from.
"""

import refnn
from refnn import __getattr__  # noqa: F401  (the same clear errors for what refnn does not have)

__all__ = list(refnn.__all__)
globals().update({name: getattr(refnn, name) for name in __all__})
