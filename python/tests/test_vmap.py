"""vmap over Python callables: results against a Python loop over the examples, in_axes and
out_axes as ints, None and trees, nesting, and MLX's errors."""
import numpy as np
import pytest

import lazuli.core as mx
from xform_util import np_of, rand


def loop(fun, args, in_axes, out_axis=0):
    """The reference: fun applied to each example (NumPy in, NumPy out), stacked at out_axis."""
    sizes = {a.shape[ax] for a, ax in zip(args, in_axes) if ax is not None}
    assert len(sizes) == 1
    outs = []
    for i in range(sizes.pop()):
        ex = [mx.array(np.take(a, i, axis=ax)) if ax is not None else mx.array(a)
              for a, ax in zip(args, in_axes)]
        outs.append(np_of(fun(*ex)))
    return np.stack(outs, axis=out_axis)


@pytest.mark.parametrize("in_axes,out_axes", [(0, 0), (1, 0), (0, 1), (-1, -1), (2, 1)])
def test_vmap_matches_a_loop(in_axes, out_axes):
    a, b = rand(4, 5, 6, seed=1), rand(4, 5, 6, seed=2)
    def fun(x, y):
        return mx.tanh(x) * mx.sum(y, axis=-1, keepdims=True) + (x @ mx.transpose(y)) @ x

    got = mx.vmap(fun, in_axes=in_axes, out_axes=out_axes)(mx.array(a), mx.array(b))
    ref = loop(fun, [a, b], [in_axes % 3] * 2, out_axes % 3 if out_axes >= 0 else out_axes)
    np.testing.assert_allclose(np_of(got), ref, rtol=1e-5, atol=1e-5)


def test_unmapped_inputs_and_mixed_axes():
    x, w = rand(3, 7, seed=3), rand(7, 2, seed=4)
    fun = lambda x, w: mx.softmax(x @ w, axis=-1)  # noqa: E731
    got = mx.vmap(fun, in_axes=(1, None))(mx.array(x.T.copy()), mx.array(w))
    np.testing.assert_allclose(np_of(got), loop(fun, [x, w], [0, None]), rtol=1e-5)
    # in_axes as a list works like a tuple
    got2 = mx.vmap(fun, in_axes=[0, None])(mx.array(x), mx.array(w))
    np.testing.assert_allclose(np_of(got2), np_of(fun(mx.array(x), mx.array(w))), rtol=1e-5)


def test_trees_in_and_out():
    params = {"w": mx.array(rand(3, 2, seed=5)), "b": mx.array(rand(2, seed=6))}
    xs = rand(4, 3, seed=7)

    def f(p, x):
        h = x @ p["w"] + p["b"]
        return {"h": h, "pair": (mx.sum(h), h * 2)}

    out = mx.vmap(f, in_axes=({"w": None, "b": None}, 0),
                  out_axes={"h": 1, "pair": (0, 0)})(params, mx.array(xs))
    assert set(out) == {"h", "pair"} and isinstance(out["pair"], tuple)
    ref_h = xs @ np_of(params["w"]) + np_of(params["b"])
    np.testing.assert_allclose(np_of(out["h"]), ref_h.T, rtol=1e-5)
    np.testing.assert_allclose(np_of(out["pair"][0]), ref_h.sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(np_of(out["pair"][1]), 2 * ref_h, rtol=1e-5)
    # a single tree argument takes the axes tree directly
    g = mx.vmap(lambda d: d["a"] + d["b"], in_axes={"a": 0, "b": 1})(
        {"a": mx.array(rand(4, 2, seed=8)), "b": mx.array(rand(2, 4, seed=9))})
    assert g.shape == (4, 2)


def test_out_axes_none_for_unbatched_outputs():
    c = mx.array([1.0, 2.0])
    res = mx.vmap(lambda x: (x * 2, c * 3), out_axes=(0, None))(mx.ones((5, 2)))
    assert res[0].shape == (5, 2) and res[1].shape == (2,)
    np.testing.assert_allclose(np_of(res[1]), [3.0, 6.0])


def test_nested_vmap_is_an_outer_product():
    a, b = rand(3, seed=10), rand(4, seed=11)
    got = mx.vmap(mx.vmap(lambda x, y: x * y, in_axes=(None, 0)), in_axes=(0, None))(
        mx.array(a), mx.array(b))
    np.testing.assert_allclose(np_of(got), np.outer(a, b), rtol=1e-6)


def test_vmap_of_grad_and_grad_of_vmap():
    xs = rand(6, 3, seed=12)
    f = lambda x: mx.sum(mx.sin(x) * x)  # noqa: E731
    per = mx.vmap(mx.grad(f))(mx.array(xs))
    np.testing.assert_allclose(np_of(per), np.cos(xs) * xs + np.sin(xs), rtol=1e-5)
    g = mx.grad(lambda x: mx.sum(mx.vmap(f)(x)))(mx.array(xs))
    np.testing.assert_allclose(np_of(g), np_of(per), rtol=1e-6)


def test_vmap_errors_match_mlx():
    with pytest.raises(ValueError, match="Invalid vectorization axis"):
        mx.vmap(lambda x: x, in_axes=2)(mx.ones((2, 3)))
    with pytest.raises(ValueError, match="Invalid output vectorization axis"):
        mx.vmap(lambda x: x, out_axes=3)(mx.ones((2, 3)))
    with pytest.raises(ValueError, match="only arrays"):
        mx.vmap(lambda x, n: x * n)(mx.ones((2,)), 3)
    with pytest.raises(ValueError, match="int or None"):
        mx.vmap(lambda x: x, in_axes="a")(mx.ones((2,)))
    with pytest.raises(ValueError):
        mx.vmap(lambda x, y: x + y)(mx.ones((2, 3)), mx.ones((3, 3)))
    with pytest.raises(ValueError, match="only arrays"):
        mx.vmap(lambda x: (x, "s"))(mx.ones((2,)))
    with pytest.raises(ValueError, match="At least one of the inputs must be vmapped"):
        mx.vmap(lambda x: x, in_axes=None)(mx.ones((2,)))
    with pytest.raises(TypeError):
        mx.vmap(lambda x: x)(x=mx.ones((2,)))


def test_per_example_gradients_of_many_parameters():
    # more arrays than a closure returns at once (32): they travel packed per dtype
    rng = np.random.default_rng(5)
    params = [mx.array(rng.normal(size=(3, 2)).astype(np.float32)) for _ in range(40)]
    xs = rng.normal(size=(6, 2)).astype(np.float32)

    def loss(ps, x):
        return sum((mx.sum(mx.tanh(p @ x)) for p in ps), mx.array(0.0))

    per = mx.vmap(mx.grad(loss), in_axes=(None, 0))(params, mx.array(xs))
    assert isinstance(per, list) and len(per) == 40 and per[0].shape == (6, 3, 2)
    for i in (0, 5):
        ref = mx.grad(loss)(params, mx.array(xs[i]))
        for j in (0, 17, 39):
            np.testing.assert_allclose(np_of(per[j])[i], np_of(ref[j]), rtol=1e-5, atol=1e-6)
    # mixed dtypes and out_axes on packed outputs
    out = mx.vmap(lambda x: [x * k for k in range(35)] + [mx.argmax(x)],
                  out_axes=[1] * 35 + [0])(mx.array(rng.normal(size=(4, 3)).astype(np.float32)))
    assert out[34].shape == (3, 4) and out[35].dtype == mx.uint32 and out[35].shape == (4,)
