"""lazuli.utils: tree utilities with MLX's path naming."""
import numpy as np
import pytest

import lazuli.core as mx
from lazuli.utils import (
    tree_flatten,
    tree_map,
    tree_map_with_path,
    tree_merge,
    tree_reduce,
    tree_unflatten,
)


def test_flatten_paths_and_order():
    tree = {"layers": [{"weight": 1, "bias": 2}, {"weight": 3}], "head": (4, [5])}
    assert tree_flatten(tree) == [
        ("layers.0.weight", 1),
        ("layers.0.bias", 2),
        ("layers.1.weight", 3),
        ("head.0", 4),
        ("head.1.0", 5),
    ]


def test_flatten_prefix_leaf_and_destination():
    assert tree_flatten([[[0]]], ".hello") == [("hello.0.0.0", 0)]
    assert tree_flatten(7) == [("", 7)]
    assert tree_flatten({}) == []
    d = tree_flatten({"a": {"b": 1}}, destination={})
    assert d == {"a.b": 1}
    # is_leaf stops the descent
    assert tree_flatten({"a": [1, 2]}, is_leaf=lambda x: isinstance(x, list)) == [("a", [1, 2])]
    with pytest.raises(ValueError):
        tree_flatten({"a": 1}, destination=5)


def test_unflatten_roundtrip_lists_and_dicts():
    tree = {"layers": [{"weight": 1, "bias": 2}, {"weight": 3}], "head": {"w": 4}}
    assert tree_unflatten(tree_flatten(tree)) == tree
    assert tree_unflatten([("hello.world", 42)]) == {"hello": {"world": 42}}
    assert tree_unflatten({"hello.world": 42}) == {"hello": {"world": 42}}
    # list indices sort numerically, holes become empty dicts
    assert tree_unflatten([("10", "b"), ("2", "a")]) == [{}, {}, "a"] + [{}] * 7 + ["b"]
    assert tree_unflatten([("", 5)]) == 5


def test_map_multiple_trees_and_is_leaf():
    a = {"x": [1, 2], "y": (3,)}
    b = {"x": [10, 20], "y": (30,), "extra": 0}
    out = tree_map(lambda u, v: u + v, a, b)
    assert out == {"x": [11, 22], "y": (33,)}
    assert isinstance(out["y"], tuple)
    out = tree_map(lambda l: len(l), {"a": [1, 2, 3]}, is_leaf=lambda x: isinstance(x, list))
    assert out == {"a": 3}


def test_map_with_path():
    seen = []
    out = tree_map_with_path(lambda p, v: seen.append(p) or v * 2, {"a": [1, {"b": 2}]})
    assert seen == ["a.0", "a.1.b"]
    assert out == {"a": [2, {"b": 4}]}


def test_reduce():
    tree = {"a": [1, 2], "b": {"c": 3}}
    assert tree_reduce(lambda acc, x: acc + x, tree, 0) == 6
    assert tree_reduce(lambda acc, x: acc * x, tree) == 6
    assert tree_reduce(lambda acc, x: acc + x, {}, 5) == 5


def test_merge():
    assert tree_merge({"a": 1}, {"b": 2}) == {"a": 1, "b": 2}
    assert tree_merge({"a": [1, {}]}, {"a": [{}, 2]}) == {"a": [1, 2]}
    assert tree_merge({"a": 1}, {"a": 2}, lambda x, y: x + y) == {"a": 3}
    with pytest.raises(ValueError):
        tree_merge({"a": 1}, {"a": 2})
    with pytest.raises(ValueError):
        tree_merge({"a": [1]}, {"a": {"b": 1}})


def test_with_arrays():
    params = {"w": mx.array([1.0, 2.0]), "layers": [mx.array([3.0])]}
    doubled = tree_map(lambda x: x * 2, params)
    np.testing.assert_array_equal(np.array(doubled["w"]), [2.0, 4.0])
    flat = dict(tree_flatten(doubled))
    assert sorted(flat) == ["layers.0", "w"]
    np.testing.assert_array_equal(np.array(flat["layers.0"]), [6.0])
