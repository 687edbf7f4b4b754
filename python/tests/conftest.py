"""Shared helpers for lazuli's pytest suite."""
import os
import sys

import numpy as np
import pytest

# Running from the source tree without PYTHONPATH: use the release build's package.
_BUILD = os.path.join(os.path.dirname(__file__), "..", "..", "build", "release", "python")
if "lazuli" not in sys.modules and os.path.isdir(_BUILD) and not any(
        os.path.isdir(os.path.join(p, "lazuli")) and os.path.exists(os.path.join(p, "lazuli", "__init__.py"))
        and p.endswith("python") for p in sys.path if p):
    sys.path.insert(0, os.path.abspath(_BUILD))

import lazuli.core as mx  # noqa: E402


def to_np(x):
    """NumPy copy of a lazuli array (bfloat16 through float32)."""
    if x.dtype == mx.bfloat16:
        x = x.astype(mx.float32)
    return np.array(x)


def assert_array_equal(x, expected, dtype=None):
    """x is a lazuli array equal to `expected` (NumPy array-like) in shape, dtype and values."""
    assert isinstance(x, mx.array), type(x)
    e = np.asarray(expected)
    assert x.shape == e.shape, (x.shape, e.shape)
    if dtype is not None:
        assert x.dtype == dtype, (x.dtype, dtype)
    np.testing.assert_array_equal(to_np(x), e)


@pytest.fixture
def mxm():
    return mx
