"""Argument fuzzing: every public function of lazuli.core and of its submodules, called with
wrong types, shapes and values, raises an ordinary Python exception (TypeError, ValueError, ...
as MLX would) and never crashes or raises SystemError (the mark of a C-level mistake)."""
import os

import pytest

import lazuli.core as mx

ALLOWED = (TypeError, ValueError, IndexError, KeyError, OSError, RuntimeError, OverflowError,
           NotImplementedError, MemoryError)

# Called without arguments these change global state instead of failing. (set_* functions
# are left out altogether: a wrong-typed but valid number would change a global limit.)
NO_EMPTY_CALL = {"disable_compile", "enable_compile", "clear_cache", "reset_peak_memory",
                 "synchronize", "seed"}


def public_functions():
    out = []
    for modname, module in [("core", mx)] + [(s, getattr(mx, s)) for s in
                                             ("random", "linalg", "fft", "fast")]:
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            f = getattr(module, name)
            if callable(f) and not isinstance(f, type) and not name.startswith("set_"):
                out.append((f"{modname}.{name}", f))
    return out


FUNCS = public_functions()


def bad_values():
    return [None, "abc", object(), 1.5, [[1, 2], [3]], {"a": 1}, (1, "x"), -1, 2**40, 1 + 2j,
            mx.ones((2, 3)), mx.array([1 + 2j]), mx.array([True, False]), mx.zeros((0,)),
            mx.ones((2, 3, 4, 5)), [mx.ones(2), "x"]]


def calls():
    a = mx.ones((2, 3))
    for b in bad_values():
        yield (b,), {}
        yield (b, b), {}
        yield (b, b, b), {}
        yield (a, b), {}
        yield (b, a), {}
        yield (a, a, b), {}
        yield (a, b, b, b), {}
        yield (a,), {"axis": b}
        yield (a,), {"shape": b}
        yield (a,), {"dtype": b}
        yield (a,), {"key": b}
    yield (a,), {"no_such_keyword": 1}


@pytest.fixture(scope="module")
def in_tmp_dir(tmp_path_factory):
    """Functions that write files (save, savez, ...) write into a temporary directory."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("bad_args"))
    yield
    os.chdir(old)


@pytest.mark.parametrize("qualname,f", FUNCS, ids=[q for q, _ in FUNCS])
def test_wrong_arguments_raise(qualname, f, in_tmp_dir):
    name = qualname.split(".", 1)[1]
    all_calls = list(calls())
    if name not in NO_EMPTY_CALL:
        all_calls.insert(0, ((), {}))
    for args, kwargs in all_calls:
        try:
            f(*args, **kwargs)
        except SystemError as e:  # a C function returned NULL without an exception, or so
            pytest.fail(f"{qualname}{args!r} {kwargs!r}: SystemError {e}")
        except ALLOWED:
            pass


def test_some_errors_are_the_ones_mlx_raises():
    a = mx.ones((2, 3))
    with pytest.raises(TypeError):
        mx.sum(a, axis="x")
    with pytest.raises(TypeError):
        mx.reshape(a, None)
    with pytest.raises(ValueError):
        mx.reshape(a, (4, 4))
    with pytest.raises(TypeError):
        mx.zeros("abc")
    with pytest.raises(ValueError):
        mx.matmul(a, a)
    with pytest.raises(TypeError):
        mx.add(a, object())
    with pytest.raises(TypeError):
        mx.concatenate(a)
    with pytest.raises(TypeError):
        mx.random.uniform(key="k")
    with pytest.raises(TypeError):
        mx.fft.fft(a, n="8")


def test_messages_name_the_function():
    a = mx.ones((2, 3))
    for call, prefix in ((lambda: mx.sum(a, axis="x"), "[sum]"),
                         (lambda: mx.reshape(a, None), "[reshape]"),
                         (lambda: mx.random.uniform(shape=[-1]), "[uniform]"),
                         (lambda: mx.fft.fft(a, n="8"), "[fft]"),
                         (lambda: mx.conv1d(a, a, stride=1.5), "[conv1d]"),
                         (lambda: mx.matmul(a, a), "[lz_matmul]")):
        with pytest.raises((TypeError, ValueError)) as e:
            call()
        assert str(e.value).startswith(prefix), str(e.value)
