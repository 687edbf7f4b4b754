"""grad, value_and_grad, vjp, jvp, stop_gradient, custom_function and checkpoint over Python
callables, against finite differences (NumPy float64), with MLX's conventions for argnums,
argnames, aux outputs, pytrees, nesting and errors."""
import gc
import tracemalloc

import numpy as np
import pytest

import lazuli.core as mx
from xform_util import finite_diff, lz_scalar_fn, np_of, rand


def loss3(w, x, y):
    return mx.mean(mx.square(mx.tanh(x @ w) - y))


def test_grad_matches_finite_differences():
    w, x, y = rand(4, 3, seed=1), rand(5, 4, seed=2), rand(5, 3, seed=3)
    f = lz_scalar_fn(loss3)
    for i in range(3):
        g = mx.grad(loss3, argnums=i)(mx.array(w), mx.array(x), mx.array(y))
        np.testing.assert_allclose(np_of(g), finite_diff(f, [w, x, y], i), rtol=2e-2, atol=2e-3)


@pytest.mark.parametrize("fun", [
    lambda x: mx.sum(mx.sin(x) * mx.exp(x)),
    lambda x: mx.sum(mx.log(1 + x * x)),
    lambda x: mx.max(mx.sigmoid(x) * 3),
    lambda x: mx.sum(mx.softmax(x, axis=-1) * mx.arange(x.shape[-1])),
    lambda x: mx.mean(x.T @ x),
])
def test_grad_of_elementwise_and_reductions(fun):
    x = rand(3, 4, seed=5)
    g = mx.grad(fun)(mx.array(x))
    np.testing.assert_allclose(np_of(g), finite_diff(lz_scalar_fn(fun), [x], 0), rtol=2e-2,
                               atol=2e-3)


def test_value_and_grad_argnums_forms():
    w, x, y = (mx.array(rand(4, 3, seed=1)), mx.array(rand(5, 4, seed=2)),
               mx.array(rand(5, 3, seed=3)))
    v, g = mx.value_and_grad(loss3)(w, x, y)
    np.testing.assert_allclose(np_of(v), np_of(loss3(w, x, y)), rtol=1e-6)
    assert isinstance(g, mx.array) and g.shape == (4, 3)
    v2, gs = mx.value_and_grad(loss3, argnums=(0, 2))(w, x, y)
    assert isinstance(gs, tuple) and len(gs) == 2
    np.testing.assert_allclose(np_of(gs[0]), np_of(g), rtol=1e-6)
    assert gs[1].shape == (5, 3)
    # a one-element sequence gives the bare gradient, as MLX does
    g1 = mx.grad(loss3, argnums=[0])(w, x, y)
    assert isinstance(g1, mx.array)
    # argnums are sorted: (2, 0) is (0, 2)
    gs2 = mx.grad(loss3, argnums=(2, 0))(w, x, y)
    np.testing.assert_allclose(np_of(gs2[0]), np_of(g), rtol=1e-6)


def test_argnames_give_keyword_gradients():
    def f(x, *, scale, shift):
        return mx.sum(scale * mx.square(x) + shift)

    x, s, b = mx.array([1.0, 2.0]), mx.array(3.0), mx.array([0.5, 0.5])
    pos, kw = mx.grad(f, argnames="scale")(x, scale=s, shift=b)
    assert pos is None  # argnums defaults to 0 only when argnames is empty
    np.testing.assert_allclose(np_of(kw["scale"]), 5.0)
    assert list(kw) == ["scale"]
    pos, kw = mx.grad(f, argnums=None, argnames=["scale", "shift"])(x, scale=s, shift=b)
    assert pos is None
    np.testing.assert_allclose(np_of(kw["shift"]), [1.0, 1.0])
    with pytest.raises(ValueError, match="keyword argument 'shift'"):
        mx.grad(f, argnames="shift")(x, scale=s)


def test_aux_outputs_through_value_and_grad():
    def f(w, x):
        h = x @ w
        return mx.sum(h * h), {"h": h, "note": "aux", "n": [1, h]}

    w, x = mx.array(rand(3, 2, seed=4)), mx.array(rand(4, 3, seed=6))
    (loss, aux), g = mx.value_and_grad(f)(w, x)
    assert aux["note"] == "aux" and aux["n"][0] == 1
    np.testing.assert_allclose(np_of(aux["h"]), np_of(x) @ np_of(w), rtol=1e-5)
    assert aux["n"][1] is aux["h"] or np.allclose(np_of(aux["n"][1]), np_of(aux["h"]))
    np.testing.assert_allclose(np_of(g), 2 * np_of(x).T @ (np_of(x) @ np_of(w)), rtol=1e-4)
    # grad of a function with aux outputs is an error in MLX (grad wants a scalar)
    with pytest.raises(ValueError, match="scalar array"):
        mx.grad(f)(w, x)


def test_pytree_arguments_get_pytree_gradients():
    params = {"layers": [{"w": mx.array(rand(3, 3, seed=7)), "b": mx.zeros((3,))},
                         {"w": mx.array(rand(3, 1, seed=8)), "b": mx.zeros((1,))}],
              "scale": (mx.array(2.0),)}
    x = mx.array(rand(6, 3, seed=9))

    def f(p, x):
        h = x
        for layer in p["layers"]:
            h = mx.tanh(h @ layer["w"] + layer["b"])
        return mx.sum(h) * p["scale"][0]

    g = mx.grad(f)(params, x)
    assert set(g) == {"layers", "scale"} and isinstance(g["layers"], list)
    assert isinstance(g["scale"], tuple) and g["scale"][0].shape == ()
    assert g["layers"][1]["w"].shape == (3, 1)
    # against finite differences of the first layer's weight
    w0 = np_of(params["layers"][0]["w"])

    def fw(w):
        p = {"layers": [{"w": mx.array(w.astype(np.float32)), "b": params["layers"][0]["b"]},
                        params["layers"][1]], "scale": params["scale"]}
        return float(np_of(f(p, x)))

    np.testing.assert_allclose(np_of(g["layers"][0]["w"]), finite_diff(fw, [w0], 0), rtol=2e-2,
                               atol=2e-3)


def test_non_array_leaves_in_differentiated_arguments():
    with pytest.raises(ValueError, match="only arrays"):
        mx.grad(lambda p: mx.sum(p["w"]))({"w": mx.ones(2), "name": "x"})
    # non-differentiated arguments may hold anything
    g = mx.grad(lambda w, cfg: mx.sum(w * cfg["k"]))(mx.ones(2), {"k": 3.0, "s": "x"})
    np.testing.assert_allclose(np_of(g), [3.0, 3.0])


def test_argument_errors_match_mlx():
    f = lambda x, y: mx.sum(x * y)  # noqa: E731
    with pytest.raises(ValueError, match="only 1 positional"):
        mx.grad(f, argnums=1)(mx.ones(2))
    with pytest.raises(ValueError, match="negative argument index"):
        mx.grad(f, argnums=-1)
    with pytest.raises(ValueError, match="Duplicate argument index"):
        mx.grad(f, argnums=(0, 0))
    with pytest.raises(ValueError, match="no argument"):
        mx.grad(f, argnums=[])
    with pytest.raises(ValueError, match="should be a scalar array"):
        mx.grad(lambda x: [x])(mx.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        mx.grad(lambda x: x * 2)(mx.ones(2))
    with pytest.raises(ValueError, match="empty tuple"):
        mx.value_and_grad(lambda x: ())(mx.ones(2))
    with pytest.raises(TypeError):
        mx.grad(3)


def test_vjp_and_jvp_against_finite_differences():
    x, y = rand(3, seed=11), rand(3, seed=12)

    def f(a, b):
        return [mx.sin(a) * b, mx.sum(a * a)]

    ct = [mx.array(rand(3, seed=13)), mx.array(0.5)]
    outs, vjps = mx.vjp(f, [mx.array(x), mx.array(y)], ct)
    assert len(outs) == 2 and len(vjps) == 2
    np.testing.assert_allclose(np_of(outs[0]), np.sin(x) * y, rtol=1e-5)
    ctn = [np_of(c) for c in ct]

    def scalar(a, b):
        return float(np.sum(np.sin(a) * b * ctn[0]) + np.sum(a * a) * ctn[1])

    for i in range(2):
        np.testing.assert_allclose(np_of(vjps[i]), finite_diff(scalar, [x, y], i), rtol=1e-4,
                                   atol=1e-5)
    tx, ty = rand(3, seed=14), rand(3, seed=15)
    outs, jvps = mx.jvp(f, [mx.array(x), mx.array(y)], [mx.array(tx), mx.array(ty)])
    eps = 1e-4
    xd, yd, txd, tyd = (a.astype(np.float64) for a in (x, y, tx, ty))
    num0 = (np.sin(xd + eps * txd) * (yd + eps * tyd)
            - np.sin(xd - eps * txd) * (yd - eps * tyd)) / (2 * eps)
    np.testing.assert_allclose(np_of(jvps[0]), num0, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(np_of(jvps[1]), np.sum(2 * x * tx), rtol=1e-4)
    # a function returning a single array
    outs, jv = mx.jvp(lambda a: a * 3, [mx.array(x)], [mx.ones(3)])
    np.testing.assert_allclose(np_of(jv[0]), [3, 3, 3])
    with pytest.raises(ValueError):
        mx.jvp(lambda a: a, [mx.array(x)], [])
    with pytest.raises(ValueError):
        mx.vjp(lambda a: a, [mx.array(x)], [mx.ones(4)])
    with pytest.raises(ValueError, match="list of arrays"):
        mx.vjp(lambda a: {"a": a}, [mx.array(x)], [mx.ones(3)])


def test_stop_gradient_cuts_the_gradient():
    g = mx.grad(lambda x: mx.sum(x * mx.stop_gradient(x)))(mx.array([1.0, 2.0]))
    np.testing.assert_allclose(np_of(g), [1.0, 2.0])


def test_nesting_in_any_order():
    x = mx.array(0.7)
    # d^3/dx^3 sin = -cos
    g3 = mx.grad(mx.grad(mx.grad(mx.sin)))(x)
    np.testing.assert_allclose(np_of(g3), -np.cos(0.7), rtol=1e-5)
    # grad of vmap: d/dx sum_i x * c_i
    c = mx.array([1.0, 2.0, 3.0])
    gv = mx.grad(lambda x: mx.sum(mx.vmap(lambda ci: mx.sin(x * ci))(c)))(x)
    np.testing.assert_allclose(np_of(gv), np.sum(np.cos(0.7 * np.array([1, 2, 3])) * [1, 2, 3]),
                               rtol=1e-5)
    # vmap of grad: per-example gradients equal a Python loop
    xs_np = rand(5, 3, seed=21)
    xs = mx.array(xs_np)
    w = mx.array(rand(3, seed=22))
    per = mx.vmap(mx.grad(lambda w, x: mx.sum(mx.tanh(w * x))), in_axes=(None, 0))(w, xs)
    for i in range(5):
        gi = mx.grad(lambda w, x: mx.sum(mx.tanh(w * x)))(w, mx.array(xs_np[i]))
        np.testing.assert_allclose(np_of(per)[i], np_of(gi), rtol=1e-5, atol=1e-6)
    # jvp of grad (a Hessian-vector product) of sum(x^3): H = diag(6x)
    xv = mx.array([1.0, 2.0])
    _, hv = mx.jvp(mx.grad(lambda x: mx.sum(x * x * x)), [xv], [mx.array([1.0, 1.0])])
    np.testing.assert_allclose(np_of(hv[0]), [6.0, 12.0], rtol=1e-5)
    # compile of grad and grad of compile agree with grad
    f = lambda x: mx.sum(mx.exp(x) * x)  # noqa: E731
    ref = np_of(mx.grad(f)(xv))
    np.testing.assert_allclose(np_of(mx.compile(mx.grad(f))(xv)), ref, rtol=1e-5)
    np.testing.assert_allclose(np_of(mx.grad(mx.compile(f))(xv)), ref, rtol=1e-5)
    # grad of a compiled grad: d/dx sum(cos x) = -sin x
    cg = mx.compile(mx.grad(lambda y: mx.sum(mx.sin(y))))
    np.testing.assert_allclose(np_of(mx.grad(lambda x: mx.sum(cg(x)))(xv)), -np.sin([1.0, 2.0]),
                               rtol=1e-5)


class Boom(Exception):
    pass


def test_python_exceptions_propagate_unchanged():
    def bad(x):
        raise Boom("inside")

    for t in (mx.grad(bad), mx.value_and_grad(bad), mx.vmap(bad), mx.compile(bad),
              mx.checkpoint(bad), mx.grad(lambda x: mx.sum(mx.vmap(bad)(x)))):
        with pytest.raises(Boom, match="inside"):
            t(mx.ones((2,)))
    with pytest.raises(Boom):
        mx.vjp(bad, [mx.ones(2)], [mx.ones(2)])
    with pytest.raises(Boom):
        mx.jvp(bad, [mx.ones(2)], [mx.ones(2)])
    # nested three deep, the same exception object
    err = Boom("deep")

    def deep(x):
        raise err

    with pytest.raises(Boom) as info:
        mx.grad(lambda x: mx.sum(mx.grad(lambda y: mx.sum(mx.vmap(deep)(y)))(x)))(mx.ones((2,)))
    assert info.value is err
    # the next transform works normally afterwards
    np.testing.assert_allclose(np_of(mx.grad(mx.sin)(mx.array(0.0))), 1.0)


def test_lazuli_errors_become_mlx_exceptions():
    with pytest.raises(ValueError, match="shape|broadcast"):
        mx.grad(lambda x: mx.sum(x + mx.ones((5,))))(mx.ones((3,)))
    with pytest.raises(ValueError):
        mx.vmap(lambda x: x, in_axes=3)(mx.ones((2, 2)))


def test_custom_function_vjp_jvp_vmap():
    calls = []

    @mx.custom_function
    def f(x, y):
        return mx.sin(x) * y

    @f.vjp
    def f_vjp(primals, cotangent, output):
        calls.append("vjp")
        x, y = primals
        # deliberately not the true gradient, so the test sees the rule was used
        return cotangent * 2 * x, cotangent * 10

    @f.jvp
    def f_jvp(primals, tangents):
        calls.append("jvp")
        x, y = primals
        dx, dy = tangents
        return dx * 100

    @f.vmap
    def f_vmap(inputs, axes):
        calls.append("vmap")
        x, y = inputs
        return mx.sin(x) * y + 1000, axes[0]

    x, y = mx.array([0.5, 1.0]), mx.array([2.0, 3.0])
    np.testing.assert_allclose(np_of(f(x, y)), np.sin([0.5, 1.0]) * [2, 3], rtol=1e-6)
    gx, gy = mx.grad(lambda x, y: mx.sum(f(x, y)), argnums=(0, 1))(x, y)
    np.testing.assert_allclose(np_of(gx), [1.0, 2.0])
    np.testing.assert_allclose(np_of(gy), [10.0, 10.0])
    _, t = mx.jvp(f, [x, y], [mx.ones(2), mx.ones(2)])
    np.testing.assert_allclose(np_of(t[0]), [100.0, 100.0])
    v = mx.vmap(f)(mx.ones((3, 2)), mx.ones((3, 2)))
    np.testing.assert_allclose(np_of(v), np.sin(1.0) + 1000 + np.zeros((3, 2)), rtol=1e-6)
    assert set(calls) == {"vjp", "jvp", "vmap"}
    # the vmap rule gets None as the axis of a non-array argument
    @mx.custom_function
    def h(x, k):
        return x * k

    seen = []

    @h.vmap
    def h_vmap(inputs, axes):
        seen.append(axes)
        x, k = inputs
        return x * k + 1, axes[0]

    out = mx.vmap(lambda x: h(x, 3.0))(mx.ones((4, 2)))
    assert seen == [(0, None)]
    np.testing.assert_allclose(np_of(out), np.full((4, 2), 4.0))
    # without rules it is the plain function, also under grad
    plain = mx.custom_function(lambda x: mx.sum(mx.sin(x)))
    np.testing.assert_allclose(np_of(mx.grad(plain)(x)), np.cos([0.5, 1.0]), rtol=1e-6)
    # trees in and out, with a keyword argument
    @mx.custom_function
    def g(d, scale=1.0):
        return {"o": d["a"] * d["b"] * scale}

    @g.vjp
    def g_vjp(primals, cot, out, scale=1.0):
        return {"a": cot["o"] * primals["b"] * scale, "b": cot["o"] * 0}

    gr = mx.grad(lambda d: mx.sum(g(d, scale=2.0)["o"]))({"a": x, "b": y})
    np.testing.assert_allclose(np_of(gr["a"]), [4.0, 6.0])
    np.testing.assert_allclose(np_of(gr["b"]), [0.0, 0.0])


def test_checkpoint_gives_the_same_gradients():
    w = mx.array(rand(4, 4, seed=31))
    x = mx.array(rand(3, 4, seed=32))

    def block(w, x):
        return mx.tanh(x @ w) @ w

    def loss(w, x, fn):
        return mx.sum(mx.square(fn(w, fn(w, x))))

    ref = mx.grad(loss)(w, x, block)
    got = mx.grad(loss)(w, x, mx.checkpoint(block))
    np.testing.assert_allclose(np_of(got), np_of(ref), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_of(mx.checkpoint(block)(w, x)), np_of(block(w, x)), rtol=1e-6)
    assert mx.checkpoint(block).__name__ == "block"


def test_transformed_functions_keep_names_and_bind_as_methods():
    def my_loss(x):
        """Docs."""
        return mx.sum(x)

    g = mx.grad(my_loss)
    assert g.__name__ == "my_loss" and g.__doc__ == "Docs." and g.__wrapped__ is my_loss

    class M:
        k = 3.0

        def f(self, x):
            return mx.sum(x * self.k)

        vg = mx.value_and_grad(f, argnums=1)

    v, gr = M().vg(mx.ones(2))
    np.testing.assert_allclose(np_of(gr), [3.0, 3.0])


def test_no_leaks_over_many_training_steps():
    w = mx.array(rand(8, 4, seed=41))
    x, y = mx.array(rand(16, 8, seed=42)), mx.array(rand(16, 4, seed=43))
    step = mx.value_and_grad(lambda w: mx.mean(mx.square(mx.tanh(x @ w) - y)))

    def run(n):
        nonlocal w
        for _ in range(n):
            loss, g = step(w)
            w = w - 0.1 * g
            mx.eval(w, loss)

    run(200)
    gc.collect()
    active = mx.get_active_memory()
    tracemalloc.start()
    snap = tracemalloc.take_snapshot()
    run(10000)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(snap, "filename"))
    assert grown < 64 * 1024, grown
    assert mx.get_active_memory() <= active


def test_no_leaks_over_nested_transforms_and_custom_functions():
    @mx.custom_function
    def f(x):
        return mx.sin(x)

    @f.vjp
    def f_vjp(primals, cot, out):
        return cot * mx.cos(primals)

    step = mx.compile(mx.value_and_grad(lambda w, xs: mx.sum(mx.vmap(
        lambda x: mx.sum(f(w * x)))(xs)) + mx.sum(mx.checkpoint(mx.tanh)(w))))
    w, xs = mx.array(rand(4, seed=44)), mx.array(rand(3, 4, seed=45))

    def run(n):
        for _ in range(n):
            v, g = step(w, xs)
            mx.eval(v, g)

    run(100)
    gc.collect()
    active = mx.get_active_memory()
    tracemalloc.start()
    snap = tracemalloc.take_snapshot()
    run(2000)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(snap, "filename"))
    assert grown < 64 * 1024, grown
    assert mx.get_active_memory() <= active
