"""Parameter packing: one flat vector and back."""

import numpy as np
import pytest

from refnn.utils.packing import ParamPacker


def test_pack_unpack_roundtrip(rng):
    params = {"a/kernel": rng.standard_normal((3, 2)), "a/bias": rng.standard_normal(2), "b/kernel": rng.standard_normal((2, 1))}
    packer = ParamPacker(params)
    assert packer.size == 6 + 2 + 2
    vec = packer.pack(params)
    np.testing.assert_array_equal(vec[:6], params["a/kernel"].ravel())
    back = packer.unpack(vec)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k])
    packer.assign(params, np.arange(10.0))
    np.testing.assert_array_equal(params["b/kernel"].ravel(), [8.0, 9.0])


def test_unpack_rejects_wrong_length():
    packer = ParamPacker({"w": np.zeros(3)})
    with pytest.raises(ValueError, match=r"shape \(3,\). Received: vector.shape=\(4,\)"):
        packer.unpack(np.zeros(4))
