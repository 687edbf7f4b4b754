"""lazuli.nn.Module: the parameter tree, freezing, updates, modes, save/load."""
import numpy as np
import pytest

import lazuli.core as mx
import lazuli.nn as nn
from lazuli.utils import tree_flatten, tree_map



class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = [nn.Linear(3, 4), nn.Linear(4, 2)]
        self.scale = mx.array([2.0])
        self.extra = {"a": mx.zeros((2,)), "b": [mx.ones((1,))]}
        self._hidden = mx.array([5.0])
        self.name = "mlp"

    def __call__(self, x):
        x = nn.relu(self.layers[0](x))
        return self.layers[1](x) * self.scale


def names(tree):
    return sorted(k for k, _ in tree_flatten(tree, is_leaf=nn.Module.is_module))


def test_attributes_are_entries():
    m = MLP()
    assert isinstance(m, dict)
    assert m["scale"] is m.scale
    assert "name" not in m and m.name == "mlp"
    assert "_hidden" in m  # arrays are entries even when private ...
    assert "_hidden" not in m.parameters()  # ... but not parameters
    with pytest.raises(AttributeError):
        m.missing
    del m.scale
    assert "scale" not in m


def test_parameters_and_paths():
    m = MLP()
    assert names(m.parameters()) == [
        "extra.a", "extra.b.0", "layers.0.bias", "layers.0.weight",
        "layers.1.bias", "layers.1.weight", "scale",
    ]
    assert m.parameters()["layers"][0]["weight"].shape == (4, 3)


def test_children_leaf_modules_named_modules():
    m = MLP()
    ch = m.children()
    assert isinstance(ch["layers"], list) and ch["layers"][0] is m.layers[0]
    assert names(m.leaf_modules()) == ["layers.0", "layers.1"]
    named = dict(m.named_modules())
    assert set(named) == {"", "layers.0", "layers.1"}
    assert named[""] is m and named["layers.1"] is m.layers[1]
    assert len(m.modules()) == 3
    seq = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Sequential(nn.Linear(2, 1)))
    assert names(seq.leaf_modules()) == ["layers.0", "layers.1", "layers.2.layers.0"]


def test_freeze_unfreeze():
    m = MLP()
    m.freeze()
    assert names(m.trainable_parameters()) == []
    m.unfreeze()
    assert names(m.trainable_parameters()) == names(m.parameters())
    m.layers[0].freeze(keys="weight")
    assert "layers.0.weight" not in names(m.trainable_parameters())
    assert "layers.0.bias" in names(m.trainable_parameters())
    m.unfreeze()
    m.freeze(recurse=False)
    assert names(m.trainable_parameters()) == [
        "layers.0.bias", "layers.0.weight", "layers.1.bias", "layers.1.weight"
    ]
    m.unfreeze()
    m.freeze(keys=["bias"])
    assert all(not k.endswith("bias") for k in names(m.trainable_parameters()))
    with pytest.raises(KeyError):
        m.freeze(keys=["nope"], strict=True)
    m.unfreeze(keys="bias")
    assert "layers.1.bias" in names(m.trainable_parameters())


def test_update_strict_and_partial():
    m = MLP()
    new = tree_map(lambda x: mx.zeros_like(x), m.parameters())
    m.update(new)
    assert all(float(mx.sum(mx.abs(v))) == 0 for _, v in tree_flatten(m.parameters()))
    m.update({"layers": [{}, {"bias": mx.ones((2,))}]})
    np.testing.assert_array_equal(np.array(m.layers[1].bias), [1, 1])
    with pytest.raises(ValueError, match='Module does not have parameter named "nope"'):
        m.update({"nope": mx.zeros((1,))})
    with pytest.raises(ValueError, match="too many list elements"):
        m.update({"layers": [{}, {}, {}]})
    with pytest.raises(ValueError, match="Received invalid type: int"):
        m.update({"scale": 3})
    m.update({"nope": mx.zeros((1,))}, strict=False)
    assert "nope" not in m


def test_update_modules_and_apply():
    m = MLP()
    ident = nn.Identity()
    m.update_modules({"layers": [{}, ident]})
    assert m.layers[1] is ident
    with pytest.raises(ValueError):
        m.update_modules({"nope": nn.Identity()})
    m = MLP()
    m.apply(lambda x: x * 0 + 3)
    assert all(np.all(np.array(v) == 3) for _, v in tree_flatten(m.parameters()))
    seen = []
    m.apply_to_modules(lambda k, mod: seen.append(k))
    assert sorted(seen) == ["", "layers.0", "layers.1"]


def test_train_eval():
    m = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    assert m.training and m.layers[1].training
    m.eval()
    assert not m.training and not m.layers[1].training
    m.train()
    assert m.layers[0].training


def test_set_dtype():
    m = MLP()
    m.idx = mx.array([1, 2], dtype=mx.int32)
    m.set_dtype(mx.float16)
    assert m.layers[0].weight.dtype == mx.float16
    assert m.idx.dtype == mx.int32
    m.set_dtype(mx.float32, predicate=None)
    assert m.idx.dtype == mx.float32


def test_repr():
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
    r = repr(m)
    assert r.startswith("Sequential(")
    assert "(layers.0): Linear(input_dims=3, output_dims=4, bias=True)" in r
    assert "(layers.1): ReLU()" in r


@pytest.mark.parametrize("ext", ["npz", "safetensors"])
def test_save_load_roundtrip(tmp_path, ext):
    a, b = MLP(), MLP()
    path = str(tmp_path / f"w.{ext}")
    a.save_weights(path)
    b.load_weights(path)
    for (ka, va), (kb, vb) in zip(tree_flatten(a.parameters()), tree_flatten(b.parameters())):
        assert ka == kb
        np.testing.assert_array_equal(np.array(va), np.array(vb))
    with pytest.raises(ValueError, match="Unsupported file extension"):
        a.save_weights(str(tmp_path / "w.bin"))


def test_load_weights_errors_leave_model_unchanged():
    m = nn.Linear(3, 2)
    before = {k: np.array(v) for k, v in tree_flatten(m.parameters())}

    def unchanged():
        for k, v in tree_flatten(m.parameters()):
            np.testing.assert_array_equal(np.array(v), before[k])

    with pytest.raises(ValueError) as e:
        m.load_weights([("weight", mx.zeros((2, 4))), ("bias", mx.zeros((2,)))])
    assert str(e.value) == "Expected shape (2, 3) but received shape (2, 4) for parameter weight"
    unchanged()
    with pytest.raises(ValueError) as e:
        m.load_weights([("weight", mx.zeros((2, 3)))])
    assert str(e.value) == "Missing 1 parameters: \nbias."
    unchanged()
    with pytest.raises(ValueError) as e:
        m.load_weights([("weight", mx.zeros((2, 3))), ("bias", mx.zeros((2,))), ("w2", mx.zeros((1,)))])
    assert str(e.value) == "Received 1 parameters not in model: \nw2."
    unchanged()
    # Non-strict: only the given ones change.
    m.load_weights([("bias", mx.array([7.0, 8.0]))], strict=False)
    np.testing.assert_array_equal(np.array(m.bias), [7, 8])
    np.testing.assert_array_equal(np.array(m.weight), before["weight"])


def test_value_and_grad_matches_finite_differences():
    mx.random.seed(0)
    m = nn.Linear(3, 2)
    x = mx.array(np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32))
    y = mx.array(np.random.default_rng(1).standard_normal((5, 2)).astype(np.float32))

    def loss_fn(model, x, y):
        return mx.mean(mx.square(model(x) - y))

    loss, grads = nn.value_and_grad(m, loss_fn)(m, x, y)
    W, b = np.array(m.weight).astype(np.float64), np.array(m.bias).astype(np.float64)
    xn, yn = np.array(x).astype(np.float64), np.array(y).astype(np.float64)
    f = lambda W, b: np.mean((xn @ W.T + b - yn) ** 2)  # noqa: E731
    assert abs(float(loss) - f(W, b)) < 1e-5
    eps = 1e-4
    gW = np.zeros_like(W)
    for i in range(W.shape[0]):
        for j in range(W.shape[1]):
            d = np.zeros_like(W)
            d[i, j] = eps
            gW[i, j] = (f(W + d, b) - f(W - d, b)) / (2 * eps)
    np.testing.assert_allclose(np.array(grads["weight"]), gW, rtol=1e-3, atol=1e-4)
    r = xn @ W.T + b - yn
    gb = 2 * r.sum(axis=0) / r.size
    np.testing.assert_allclose(np.array(grads["bias"]), gb, rtol=1e-3, atol=1e-5)
    # Frozen parameters get no gradient.
    m.freeze(keys="bias")
    _, grads = nn.value_and_grad(m, loss_fn)(m, x, y)
    assert set(grads) == {"weight"}


def test_average_gradients_single_process_is_identity():
    g = {"w": mx.array([1.0, 2.0]), "l": [mx.array([3.0])]}
    out = nn.average_gradients(g)
    np.testing.assert_array_equal(np.array(out["w"]), [1, 2])
    np.testing.assert_array_equal(np.array(out["l"][0]), [3])


def test_wrong_arguments_raise():
    with pytest.raises(TypeError):
        nn.Linear("4", 3)
    m = nn.Linear(2, 2)
    with pytest.raises(TypeError):
        m.load_weights(5)
    with pytest.raises(ValueError):
        m.update([mx.zeros((2,))])
    with pytest.raises(ValueError):
        nn.Dropout(-0.1)
    with pytest.raises(ValueError):
        nn.MaxPool2d(2, padding=3)
    with pytest.raises(ValueError):
        nn.quantize(nn.Sequential(m), class_predicate=lambda p, mod: 3)
