"""MLX's Array API helpers: asarray, result_type, can_cast and isdtype, against NumPy's
constructors and against the dtypes lazuli's own ops produce (MLX's promotion lattice)."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import assert_array_equal

DTYPES = [mx.bool_, mx.uint8, mx.uint16, mx.uint32, mx.uint64, mx.int8, mx.int16, mx.int32,
          mx.int64, mx.float16, mx.bfloat16, mx.float32, mx.float64, mx.complex64]


def test_asarray():
    assert_array_equal(mx.asarray([[1, 2], [3, 4]]), np.array([[1, 2], [3, 4]], np.int32),
                       mx.int32)
    # as array(): a NumPy float64 array becomes float32 unless dtype says otherwise
    assert_array_equal(mx.asarray(np.arange(4.0)), np.arange(4.0), mx.float32)
    assert_array_equal(mx.asarray(np.arange(4.0), mx.float64), np.arange(4.0), mx.float64)
    assert_array_equal(mx.asarray(2.5, mx.float16), np.float16(2.5), mx.float16)
    assert_array_equal(mx.asarray([1, 2], dtype=mx.float32, copy=True), [1.0, 2.0], mx.float32)
    a = mx.array([1, 2, 3])
    b = mx.asarray(a)
    # a new array object with the same values: rebinding `a` in place does not change `b`
    assert b is not a and b.dtype == mx.int32
    a += 1
    assert_array_equal(b, [1, 2, 3])
    assert_array_equal(a, [2, 3, 4])
    assert_array_equal(mx.asarray(a, mx.float32), [2.0, 3.0, 4.0], mx.float32)
    with pytest.raises(ValueError):
        mx.asarray(a, copy=False)
    with pytest.raises(TypeError):
        mx.asarray(a, copy=1)
    with pytest.raises(TypeError):
        mx.asarray(a, mx.float32, False)  # copy is keyword-only
    with pytest.raises(TypeError):
        mx.asarray(a, dtype="float32")


@pytest.mark.parametrize("a", DTYPES)
def test_result_type_and_can_cast_follow_the_ops(a):
    for b in DTYPES:
        # the dtype an op on two arrays of these types gives
        produced = (mx.zeros((1,), dtype=a) + mx.zeros((1,), dtype=b)).dtype \
            if not (a == mx.bool_ and b == mx.bool_) else mx.bool_
        r = mx.result_type(a, b)
        assert r == produced, (a, b, r, produced)
        assert mx.result_type(mx.zeros((2,), dtype=a), b) == r
        assert mx.can_cast(a, b) == (r == b)
        assert mx.can_cast(mx.zeros((1,), dtype=a), b) == (r == b)
    assert mx.result_type(a) == a


def test_result_type_values():
    assert mx.result_type(mx.int8, mx.uint8) == mx.int16
    assert mx.result_type(mx.float16, mx.bfloat16) == mx.float32
    assert mx.result_type(mx.int32, mx.float16) == mx.float16
    assert mx.result_type(mx.uint8, mx.int32, mx.float32, mx.complex64) == mx.complex64
    assert mx.can_cast(mx.int8, mx.int64) and not mx.can_cast(mx.int64, mx.int8)
    assert mx.can_cast(mx.float16, mx.float32) and not mx.can_cast(mx.float32, mx.int32)
    with pytest.raises(ValueError):
        mx.result_type()
    with pytest.raises(TypeError):
        mx.result_type(mx.int32, 1)
    with pytest.raises(TypeError):
        mx.can_cast(mx.int32, mx.array(1))
    with pytest.raises(TypeError):
        mx.can_cast("int32", mx.int64)


KINDS = {
    "bool": np.bool_,
    "signed integer": "signed integer",
    "unsigned integer": "unsigned integer",
    "integral": "integral",
    "real floating": "real floating",
    "complex floating": "complex floating",
    "numeric": "numeric",
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_isdtype_kinds(kind):
    np_isdtype = getattr(np, "isdtype", None)
    for dt in DTYPES:
        if dt == mx.bfloat16:
            expect = kind in ("real floating", "numeric")
        else:
            npdt = np.dtype(np.array(mx.zeros((1,), dtype=dt)).dtype)
            if np_isdtype is not None:
                expect = np_isdtype(npdt, kind)
            else:  # NumPy < 2: the Array API kinds by hand
                expect = {"bool": npdt == np.bool_,
                          "signed integer": npdt.kind == "i",
                          "unsigned integer": npdt.kind == "u",
                          "integral": npdt.kind in "iu",
                          "real floating": npdt.kind == "f",
                          "complex floating": npdt.kind == "c",
                          "numeric": npdt.kind in "iufc"}[kind]
        assert mx.isdtype(dt, kind) == expect, (dt, kind)


def test_isdtype_dtypes_and_tuples():
    assert mx.isdtype(mx.float32, mx.float32) and not mx.isdtype(mx.float32, mx.float16)
    assert mx.isdtype(mx.int8, ("real floating", "signed integer"))
    assert mx.isdtype(mx.uint8, (mx.float32, mx.uint8))
    assert not mx.isdtype(mx.bool_, ("numeric", mx.int8))
    assert not mx.isdtype(mx.int8, ())
    with pytest.raises(ValueError):
        mx.isdtype(mx.int8, "integer")
    with pytest.raises(TypeError):
        mx.isdtype(mx.array(1), "numeric")
    with pytest.raises(TypeError):
        mx.isdtype(mx.int8, 3)
