"""Pytrees as the transforms see them: nested lists, tuples and dicts (subclasses too) with
array leaves, visited depth first, dicts in insertion order; other leaves pass through."""
from collections import OrderedDict

import numpy as np
import pytest

import lazuli.core as mx
from xform_util import np_of


class Params(dict):
    """A dict subclass, like MLX's nn.Module."""


def test_gradient_trees_mirror_argument_trees():
    tree = {"z": [mx.array(1.0), (mx.array(2.0), {"deep": mx.array(3.0)})],
            "a": mx.array(4.0)}
    # the loss weighs each leaf differently, so a misplaced leaf would show
    g = mx.grad(lambda t: t["z"][0] * 1 + t["z"][1][0] * 2 + t["z"][1][1]["deep"] * 3
                + t["a"] * 4)(tree)
    assert list(g) == ["z", "a"]
    assert isinstance(g["z"], list) and isinstance(g["z"][1], tuple)
    assert [float(np_of(v)) for v in (g["z"][0], g["z"][1][0], g["z"][1][1]["deep"], g["a"])] == \
        [1.0, 2.0, 3.0, 4.0]


def test_dict_subclasses_and_ordered_dicts_are_trees():
    p = Params(w=mx.array([1.0, 2.0]), b=mx.array(0.5))
    g = mx.grad(lambda p: mx.sum(p["w"] * p["b"]))(p)
    np.testing.assert_allclose(np_of(g["w"]), [0.5, 0.5])
    np.testing.assert_allclose(np_of(g["b"]), 3.0)
    od = OrderedDict([("second", mx.array(2.0)), ("first", mx.array(1.0))])
    g = mx.grad(lambda d: d["second"] * 10 + d["first"])(od)
    assert list(g) == ["second", "first"]
    assert float(np_of(g["second"])) == 10.0


def test_other_leaves_pass_through_untouched():
    marker = object()
    out = mx.vmap(lambda x: x * 2)(mx.ones((3,)))
    assert out.shape == (3,)
    (v, aux), _ = mx.value_and_grad(lambda x: (mx.sum(x), [marker, None, 1.5, "s"]))(mx.ones(2))
    assert aux[0] is marker and aux[1] is None and aux[2] == 1.5 and aux[3] == "s"
    # compile passes tree outputs with non-array leaves through too
    c = mx.compile(lambda x, n: {"y": x * n, "n": n})
    r = c(mx.ones(2), 3)
    assert r["n"] == 3 and np_of(r["y"]).tolist() == [3.0, 3.0]


def test_empty_containers_and_deep_trees():
    g = mx.grad(lambda t, x: mx.sum(x))([[], {}, ()], mx.ones(2))
    assert g == [[], {}, ()]
    deep = mx.array(2.0)
    for _ in range(200):
        deep = [deep]

    def unwrap(t):
        while isinstance(t, list):
            t = t[0]
        return t

    g = mx.grad(lambda t: unwrap(t) * 3)(deep)
    assert float(np_of(unwrap(g))) == 3.0


def test_eval_walks_trees_and_ignores_other_leaves():
    a = mx.ones((2,)) * 3
    b = mx.ones((2,)) * 4
    mx.eval({"a": [a, "text", 1, None], "b": (b, object())})
    np.testing.assert_allclose(np_of(a + b), [7.0, 7.0])
    mx.eval()
    mx.eval([], {}, 3)
    with pytest.raises(RecursionError):
        t = []
        t.append(t)  # a cycle is not a tree
        mx.eval(t)


def test_arguments_not_differentiated_are_passed_as_they_are():
    class Model(dict):
        def __call__(self, x):
            return x * self["w"]

    m = Model(w=mx.array([2.0, 3.0]))
    seen = []

    def loss(params, model, x):
        seen.append(type(model))
        model.update(params)
        return mx.sum(model(x))

    g = mx.grad(loss)({"w": m["w"]}, m, mx.array([1.0, 1.0]))
    assert seen == [Model]
    np.testing.assert_allclose(np_of(g["w"]), [1.0, 1.0])
