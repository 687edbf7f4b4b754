#!/usr/bin/env python3
"""Writes tests/data/indexing_refs.h: NumPy reference values for the indexing, gather and
scatter tests (tests/test_indexing.c, tests/test_scatter.c). Run from the repository root:
    python3 scripts/gen_indexing_refs.py
MLX's gather/scatter/slice semantics are spelled out below with plain loops over NumPy arrays."""
import math
import os

import numpy as np

rng = np.random.default_rng(7)
out = []


def fmt(v):
    v = float(v)
    if math.isnan(v):
        return "NAN"
    if math.isinf(v):
        return "INFINITY" if v > 0 else "-INFINITY"
    return repr(v)


def emit(name, x):
    """An array as <name>[] (float64 values), <name>_shape[], <name>_ndim and <name>_size."""
    x = np.asarray(x)
    vals = ", ".join(fmt(v) for v in x.reshape(-1)) or "0"
    dims = ", ".join(str(d) for d in x.shape) or "0"
    out.append(f"static const double {name}[] = {{{vals}}};")
    out.append(f"static const int {name}_shape[] = {{{dims}}};")
    out.append(f"enum {{ {name}_ndim = {x.ndim}, {name}_size = {x.size} }};")


def ints(lo, hi, shape):
    return rng.integers(lo, hi, shape).astype(np.float64)


# ---- take ----
a = ints(0, 100, (3, 4, 5))
emit("take_a", a)
i0 = np.array([-1, 0, 2, 1])
emit("take_i0", i0)
emit("take_ax0", np.take(a, i0, axis=0))
i1 = np.array([[2, -1, 0], [-4, 3, 3]])
emit("take_i1", i1)
emit("take_ax1", np.take(a, i1, axis=1))
i2 = np.array([4, -5, 2])
emit("take_i2", i2)
emit("take_axm1", np.take(a, i2, axis=-1))
iflat = np.array([[59, -60], [7, 0]])
emit("take_iflat", iflat)
emit("take_flat", np.take(a, iflat))
emit("take_scalar", np.take(a, 2, axis=1))
# float values (fractions) for float dtypes
af = rng.standard_normal((4, 3)).round(3)
emit("take_af", af)
emit("take_af_ax1", np.take(af, np.array([2, 2, -3]), axis=1))

# ---- take_along_axis ----
b = ints(0, 100, (3, 4))
emit("tal_a", b)
s = np.argsort(b, axis=1, kind="stable")
emit("tal_i1", s)
emit("tal_ax1", np.take_along_axis(b, s, axis=1))
ib = np.array([[3, -1]])
emit("tal_ib", ib)
emit("tal_bcast", np.take_along_axis(b, ib, axis=1))
i0 = np.array([[2, 0, 1, -1], [0, 0, 2, 1]])
emit("tal_i0", i0)
emit("tal_ax0", np.take_along_axis(b, i0, axis=0))


# ---- MLX gather: out[i, s] = a[start(i) + s] ----
def mlx_gather(a, idxs, axes, sizes):
    idxs = np.broadcast_arrays(*idxs) if idxs else []
    ishape = idxs[0].shape if idxs else ()
    res = np.zeros(ishape + tuple(sizes))
    for pos in np.ndindex(*ishape):
        st = [0] * a.ndim
        for ix, ax in zip(idxs, axes):
            v = int(ix[pos])
            st[ax] = v + a.shape[ax] if v < 0 else v
        sl = tuple(slice(st[d], st[d] + sizes[d]) for d in range(a.ndim))
        res[pos] = a[sl]
    return res


g0 = np.array([[2], [-3]])
g1 = np.array([0, 3, 1])
emit("gather_i0", g0)
emit("gather_i1", g1)
emit("gather_out", mlx_gather(a, [g0, g1], [0, 2], [1, 2, 2]))
emit("gather_one", mlx_gather(a, [np.array([1, 0])], [1], [3, 1, 5]))
emit("dslice_out", a[1:3, 0:4, 2:5])

# ---- nonzero, unique, mask_select ----
nz = np.array([[0, 1.5, 0, -2], [0, 0, 0, 0], [3, 0, 0.25, 0]])
emit("nz_a", nz)
emit("nz_out", np.argwhere(nz))
u = np.array([3, 1, 2, 3, np.nan, -1, 1, np.nan, 2, 3])
emit("uniq_a", u)
uv, uinv, ucnt = np.unique(u, return_inverse=True, return_counts=True)
emit("uniq_vals", uv)
emit("uniq_inv", uinv.reshape(-1))
emit("uniq_cnt", ucnt)
ui = np.array([[5, -3, 5], [0, -3, 7]])
emit("uniq_ia", ui)
emit("uniq_ivals", np.unique(ui))
m3 = ints(0, 50, (3, 4, 2))
mk = rng.random((3, 4)) > 0.5
emit("msel_a", m3)
emit("msel_mask", mk.astype(np.float64))
emit("msel_out", m3[mk])

# ---- at_* (np.ufunc.at along an axis) ----
sa = ints(1, 20, (5, 3))
si = np.array([0, 2, 0, -1, 2, 2])
sv = ints(1, 10, (6, 3))
emit("at_a", sa)
emit("at_i", si)
emit("at_v", sv)
for name, uf in [("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply),
                 ("maximum", np.maximum), ("minimum", np.minimum), ("divide", np.divide)]:
    r = sa.copy()
    uf.at(r, si, sv)
    emit(f"at_{name}", r)
r = sa.copy()
r[np.array([4, 1, -2])] = sv[:3]
emit("at_set", r)
# axis 1, 2-d indices with repeats, values broadcast from (2, 1)
sb = ints(0, 10, (3, 5))
sj = np.array([[1, 1], [-2, 0]])
svb = np.array([[5.0], [-1.0]])
emit("at1_a", sb)
emit("at1_i", sj)
emit("at1_v", svb)
r = sb.copy()
np.add.at(r, (slice(None), sj), np.broadcast_to(svb, (3, 2, 2)))
emit("at1_add", r)
# float16 accumulation: each step rounds to float16, as np.add.at does
h = np.zeros(3, np.float16)
np.add.at(h, np.array([0, 0, 0, 1, 0, 2, 0]), np.float16(0.1))
emit("at_f16", h.astype(np.float64))

# ---- put_along_axis ----
pa = ints(0, 100, (3, 4))
pi = np.array([[1, 3], [0, -1], [2, 1]])
pv = ints(100, 200, (3, 2))
emit("pal_a", pa)
emit("pal_i", pi)
emit("pal_v", pv)
r = pa.copy()
np.put_along_axis(r, pi, pv, axis=1)
emit("pal_ax1", r)
r = pa.copy()
np.put_along_axis(r, np.array([[2, 0, 1, 0]]), -7.0, axis=0)
emit("pal_ax0", r)


# ---- MLX scatter: the update block at i lands at start(i) ----
def mlx_scatter(a, idxs, axes, upd, op):
    r = a.copy()
    idxs = np.broadcast_arrays(*idxs) if idxs else []
    ishape = idxs[0].shape if idxs else ()
    block = upd.shape[len(ishape):]
    for pos in np.ndindex(*ishape):
        st = [0] * a.ndim
        for ix, ax in zip(idxs, axes):
            v = int(ix[pos])
            st[ax] = v + a.shape[ax] if v < 0 else v
        sl = tuple(slice(st[d], st[d] + block[d]) for d in range(a.ndim))
        r[sl] = op(r[sl], upd[pos])
    return r


ca = ints(0, 10, (4, 5))
ci = np.array([1, 3, 1])
cu = ints(1, 5, (3, 1, 5))
emit("sc_a", ca)
emit("sc_i", ci)
emit("sc_u", cu)
emit("sc_add", mlx_scatter(ca, [ci], [0], cu, np.add))
emit("sc_prod", mlx_scatter(ca, [ci], [0], cu, np.multiply))
emit("sc_max", mlx_scatter(ca, [ci], [0], cu, np.maximum))
emit("sc_min", mlx_scatter(ca, [ci], [0], cu, np.minimum))
emit("sc_set", mlx_scatter(ca, [ci[:2]], [0], cu[:2], lambda x, y: y))
# two index arrays broadcast (2,1) x (3,) onto single elements; blocks of (2, 2)
cr = np.array([[0], [2]])
cc = np.array([0, 1, 3])
cu2 = ints(1, 5, (2, 3, 1, 1))
emit("sc2_r", cr)
emit("sc2_c", cc)
emit("sc2_u", cu2)
emit("sc2_add", mlx_scatter(ca, [cr, cc], [0, 1], cu2, np.add))
cu3 = ints(1, 5, (2, 2, 2))
emit("sc3_u", cu3)
emit("sc3_add", mlx_scatter(ca, [np.array([0, 1])], [1], cu3, np.add))

# ---- slice_update ----
ua = ints(0, 10, (4, 5))
emit("su_a", ua)
r = ua.copy()
r[1:4:2, 0:5:2] = np.array([7.0, 8.0, 9.0])
emit("su_step", r)
r = ua.copy()
r[3::-2, -1:0:-2] = np.array([[1.0, 2.0], [3.0, 4.0]])
emit("su_neg", r)
da = ints(0, 10, (3, 4, 5))
du = ints(20, 30, (2, 3))
emit("sud_a", da)
emit("sud_u", du)
r = da.copy()
r[:, 1:3, 2:5] = du
emit("sud_out", r)
r = da.copy()
r[1:2, 0:2, 2:5] = du  # start (1, -3) on axes (0, 2)
emit("sud_neg", r)

path = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "indexing_refs.h")
with open(path, "w") as f:
    f.write("/* Generated by scripts/gen_indexing_refs.py (NumPy %s); do not edit. */\n"
            % np.__version__)
    f.write("#ifndef LZ_INDEXING_REFS_H\n#define LZ_INDEXING_REFS_H\n#include <math.h>\n\n")
    f.write("\n".join(out))
    f.write("\n\n#endif\n")
