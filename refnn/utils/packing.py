"""All parameters as one flat vector, and back.

The finite-difference check and Levenberg–Marquardt both work on ``w ∈ R^P``; ``ParamPacker``
precomputes each parameter's ``(start, end, shape)`` slice (scikit-learn's MLP does the same), so
packing and unpacking are one copy each.

``PackedArrays`` goes one step further for training: a model keeps its parameters (and its
gradients) *as* consecutive views of one flat vector, so an element-wise optimizer updates all of
them a few cache-sized blocks at a time (``PackedBlock``) instead of one tensor at a time;
``PackedState`` keeps the optimizer's slots packed the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ParamPacker", "PackedArrays", "PackedState", "PackedBlock", "BLOCK_BYTES"]

#: bytes of each array in one block of a packed optimizer update: 256 KiB (65,536 float32
#: elements). A rule's six arrays (parameters, gradients, two slots, two scratch arrays) then take
#: 1.5 MiB, inside a core's L2 cache, across the rule's passes (``PackedState.blocks``). Measured
#: in training (W2, W3 of the benchmark): 128 KiB and 512 KiB blocks were slower, 64 KiB much
#: slower (each block costs a dozen NumPy calls' overhead).
BLOCK_BYTES = 2**18


class ParamPacker:
    """Maps ``{path: array}`` to a flat vector in a fixed path order.

    Args:
        params: ``{path: ndarray}``; its iteration order is the packing order.
    """

    def __init__(self, params: dict):
        self.paths = list(params)
        self.slices: dict[str, tuple[int, int, tuple]] = {}
        start = 0
        for path in self.paths:
            shape = np.shape(params[path])
            end = start + int(np.prod(shape, dtype=np.int64))
            self.slices[path] = (start, end, shape)
            start = end
        self.size = start

    def pack(self, arrays: dict, dtype=None) -> np.ndarray:
        """Concatenate ``arrays`` (same paths) into one vector."""
        if not self.paths:
            return np.zeros(0, dtype=dtype or np.float64)
        dtype = dtype or np.result_type(*arrays.values())
        return np.concatenate([np.ravel(arrays[p]) for p in self.paths]).astype(dtype, copy=False)

    def unpack(self, vector: np.ndarray) -> dict:
        """Split ``vector`` into ``{path: array}`` views of the right shapes."""
        vector = np.asarray(vector)
        if vector.shape != (self.size,):
            raise ValueError(
                f"`vector` must have shape ({self.size},). Received: vector.shape={vector.shape}"
            )
        return {p: vector[s:e].reshape(shape) for p, (s, e, shape) in self.slices.items()}

    def assign(self, params: dict, vector: np.ndarray) -> None:
        """Write ``vector`` into the arrays of ``params`` in place."""
        for path, value in self.unpack(vector).items():
            params[path][...] = value


class PackedArrays(dict):
    """``{path: array}`` whose arrays are consecutive, C-contiguous views of one vector ``flat``.

    It is a plain dict to every reader; code that knows (the optimizers) can work on ``flat``
    directly. ``layout`` — ``((path, shape), ...)`` in order — identifies the packing.
    """

    def __init__(self, flat: np.ndarray, shapes: dict):
        super().__init__()
        self.flat = flat
        start = 0
        for path, shape in shapes.items():
            end = start + int(np.prod(shape, dtype=np.int64))
            self[path] = flat[start:end].reshape(shape)
            start = end
        if start != flat.size:
            raise ValueError(f"`flat` has {flat.size} entries but the shapes need {start}.")
        self.layout = tuple((path, tuple(shape)) for path, shape in shapes.items())

    @classmethod
    def pack(cls, arrays: dict, dtype) -> "PackedArrays":
        """Copy ``arrays`` into a new flat vector of ``dtype`` and return its views."""
        size = sum(int(np.size(a)) for a in arrays.values())
        packed = cls(np.empty(size, dtype=dtype), {k: np.shape(a) for k, a in arrays.items()})
        for path, value in arrays.items():
            packed[path][...] = value
        return packed

    @classmethod
    def zeros_like(cls, other: "PackedArrays") -> "PackedArrays":
        return cls(np.zeros_like(other.flat), dict(other.layout))


class PackedBlock(NamedTuple):
    """The elements ``start:stop`` of the packed vectors: the ``path`` an element-wise rule's
    ``update_step`` receives for one block of a packed update (see ``PackedState.blocks``)."""

    start: int
    stop: int


class PackedState:
    """An optimizer's per-path slots held as views of one flat vector per slot.

    When a model hands an optimizer its packed parameters and gradients (two ``PackedArrays`` of
    the same layout), an element-wise rule can run once on the flat vectors instead of once per
    tensor. For that, each slot (``"momentum"``, ``"velocity"``, ...) must be one flat vector
    too; the per-path entries ``state[path][slot]`` — the optimizer's public face — become views
    of it, and the flat vectors are kept under ``state[PackedState.KEY]``.

    ``ready`` packs the state on first use (building it directly when it does not exist yet, or
    copying existing per-path slots into new flat vectors), and again whenever someone replaced
    a per-path slot array instead of writing into it, so that the replacement takes effect.
    A state whose slots are not all shaped like their parameters (not element-wise) stays
    per-path: ``ready`` returns False.

    ``blocks`` cuts the flat vectors into consecutive ``PackedBlock``s of ``BLOCK_BYTES`` per
    array, and ``block_slots(block)`` gives the slots' views of one. A rule run block by block
    makes each of its passes (Adam: 12) over arrays that stay in cache, instead of streaming every
    array of the whole model through memory once per pass; an element-wise rule computes the same
    numbers either way. Measured inside training on this project's 2-core machine, one float32 Adam
    step: 235,146 parameters (the benchmark's W2) 658 → 468 µs, 319,498 (W3) 897 → 621 µs.
    """

    KEY = "<packed>"

    def __init__(self):
        self.layout = None
        self._views: list = []
        #: the consecutive blocks of the packed vectors, in order (empty until packed)
        self.blocks: list[PackedBlock] = []
        self._block_slots: dict = {}

    def ready(self, optimizer, params: PackedArrays) -> bool:
        """Whether ``optimizer.state`` is packed for ``params.layout``, packing it if needed."""
        if self.layout != params.layout or not self._intact(optimizer.state):
            self._pack(optimizer, params)
        return self.layout == params.layout

    def forget(self, state: dict) -> None:
        """Drop the flat vectors (the per-path slots keep their values); the next ``ready`` packs
        again."""
        state.pop(self.KEY, None)
        self.layout = None
        self._views = []
        self.blocks, self._block_slots = [], {}

    def block_slots(self, block: PackedBlock) -> dict:
        """``{slot: view of the flat slot vector}`` for the elements of ``block``."""
        return self._block_slots[block]

    def _intact(self, state: dict) -> bool:
        return all(state[path][slot] is view for path, slot, view in self._views)

    def _pack(self, optimizer, params: PackedArrays) -> None:
        paths = [path for path, _ in params.layout]
        state = optimizer.state
        if paths and not any(path in state for path in paths):
            flat = optimizer.build_state(self.KEY, params.flat)  # nothing to carry over
        else:
            optimizer.build(dict(params))
            slots = set(state[paths[0]]) if paths else set()
            if any(set(state[p]) != slots or any(np.shape(a) != params[p].shape for a in state[p].values())
                   for p in paths):
                return
            flat = {slot: PackedArrays.pack({p: state[p][slot] for p in paths}, params.flat.dtype).flat
                    for slot in slots}
        if any(np.shape(vector) != params.flat.shape for vector in flat.values()):
            return
        shapes = dict(params.layout)
        views = {slot: PackedArrays(vector, shapes) for slot, vector in flat.items()}
        for path in paths:
            state[path] = {slot: views[slot][path] for slot in flat}
        state[self.KEY] = flat
        self.layout = params.layout
        self._views = [(path, slot, view) for path in paths for slot, view in state[path].items()]
        size, step = params.flat.size, max(1, BLOCK_BYTES // params.flat.itemsize)
        self.blocks = [PackedBlock(start, min(start + step, size)) for start in range(0, size, step)]
        self._block_slots = {block: {slot: vector[block.start:block.stop] for slot, vector in flat.items()}
                             for block in self.blocks}
