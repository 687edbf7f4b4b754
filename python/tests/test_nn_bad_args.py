"""Wrong arguments to lazuli.nn and lazuli.optimizers raise Python exceptions (TypeError or
ValueError, as a user expects), never crash."""
import inspect

import pytest

import lazuli.core as mx
import lazuli.nn as nn
import lazuli.optimizers as optim

LAYERS = sorted(
    name for name, obj in vars(nn).items()
    if inspect.isclass(obj) and issubclass(obj, nn.Module) and obj is not nn.Module
)
BAD = ["x", None, [1.5], {"a": 1}, -3, 2.5]


@pytest.mark.parametrize("name", LAYERS)
def test_constructors_reject_garbage(name):
    cls = getattr(nn, name)
    params = [
        p for p in inspect.signature(cls.__init__).parameters.values()
        if p.name != "self" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        and p.default is p.empty
    ]
    if not params:
        pytest.skip("no required arguments")
    for bad in BAD:
        try:
            cls(*([bad] * len(params)))
        except (TypeError, ValueError, OverflowError):
            pass  # the expected outcome


SHAPE_CHECKS = [
    (lambda: nn.Linear(4, 3), (2, 5)),
    (lambda: nn.Conv2d(3, 4, 3), (1, 8, 8, 2)),
    (lambda: nn.Conv1d(3, 4, 3), (1, 8, 8, 3)),
    (lambda: nn.LayerNorm(4), (2, 5)),
    (lambda: nn.RMSNorm(4), (2, 5)),
    (lambda: nn.BatchNorm(4), (2, 5)),
    (lambda: nn.MaxPool2d(2), (8, 8, 3)),
    (lambda: nn.Embedding(4, 3), None),
]


@pytest.mark.parametrize("make,shape", SHAPE_CHECKS)
def test_wrong_input_shapes_raise_value_error(make, shape):
    layer = make()
    if shape is None:
        with pytest.raises((ValueError, TypeError, IndexError)):
            layer("not an array")
        return
    with pytest.raises(ValueError):
        mx.eval(layer(mx.zeros(shape)))


def test_optimizers_reject_bad_hyper_parameters():
    with pytest.raises(ValueError):
        optim.RMSprop(0.1, alpha=-1)
    with pytest.raises(ValueError):
        optim.Adagrad(0.1, eps=-1)
    with pytest.raises(ValueError):
        optim.Adamax(0.1, eps=-1)
    with pytest.raises((TypeError, ValueError)):
        optim.SGD("fast")
    opt = optim.SGD(0.1)
    with pytest.raises((TypeError, ValueError, KeyError, AttributeError)):
        opt.apply_gradients({"w": mx.ones((2,))}, {"v": mx.ones((2,))})
