"""Helpers shared by the transform tests: finite differences and NumPy conversions."""
import numpy as np

import lazuli.core as mx


def np_of(x):
    return np.array(x.astype(mx.float32) if x.dtype == mx.bfloat16 else x)


def finite_diff(f, xs, i, eps=1e-3):
    """Gradient of the scalar f(*xs) (NumPy float64 arrays in, float out) w.r.t. xs[i] by
    central differences."""
    x = np.array(xs[i], dtype=np.float64)
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        for sign in (1, -1):
            xp = x.copy()
            xp[idx] += sign * eps
            args = list(xs)
            args[i] = xp
            g[idx] += sign * f(*args)
        g[idx] /= 2 * eps
    return g


def lz_scalar_fn(fun):
    """A float64 NumPy-in, float-out version of a lazuli function returning a scalar."""
    def run(*xs):
        return float(np_of(fun(*[mx.array(np.asarray(x, dtype=np.float32)) for x in xs])))
    return run


def rand(*shape, seed=0, lo=-1.0, hi=1.0):
    r = np.random.default_rng(seed + 17 * len(shape) + sum(shape))
    return r.uniform(lo, hi, size=shape).astype(np.float32)
