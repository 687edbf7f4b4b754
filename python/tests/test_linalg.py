"""lazuli.core.linalg against NumPy: norms, factorizations (checked by reconstruction),
inverses, solves, cross products and eigen-decompositions."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

la = mx.linalg
RNG = np.random.default_rng(4)
M = RNG.standard_normal((3, 3)).astype(np.float32)
SPD = (M @ M.T + 3 * np.eye(3)).astype(np.float32)
B = RNG.standard_normal((2, 4, 3)).astype(np.float32)


def close(x, e, tol=1e-4):
    np.testing.assert_allclose(to_np(x), e, rtol=tol, atol=tol)


@pytest.mark.parametrize("ord,axis", [(None, None), (None, 1), (None, (1, 2)), (2, 1), (1, -1),
                                      (np.inf, 2), (-np.inf, 1), (0, 1), (3, 1), ("fro", (1, 2)),
                                      ("nuc", (1, 2)), (1, (1, 2)), (-1, (1, 2)), (np.inf, (1, 2)),
                                      (2, (1, 2)), (-2, (1, 2))], ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_norm(ord, axis, keepdims):
    if axis is None:
        close(la.norm(mx.array(B), keepdims=keepdims),
              np.linalg.norm(B.reshape(-1), keepdims=keepdims).reshape(
                  (1, 1, 1) if keepdims else ()))
        return
    close(la.norm(mx.array(B), ord, axis, keepdims),
          np.linalg.norm(B, ord, axis, keepdims), tol=1e-3)


def test_norm_matrix_default():
    close(la.norm(mx.array(M)), np.linalg.norm(M))
    close(la.norm(mx.array(M), "fro"), np.linalg.norm(M, "fro"))
    close(la.norm(mx.array(M), 1), np.linalg.norm(M, 1))


def test_qr_svd():
    q, r = la.qr(mx.array(B))
    close(mx.matmul(q, r), B)
    close(mx.matmul(mx.swapaxes(q, -1, -2), q), np.broadcast_to(np.eye(3), (2, 3, 3)))
    u, s, vt = la.svd(mx.array(B))
    assert u.shape == (2, 4, 4) and s.shape == (2, 3) and vt.shape == (2, 3, 3)
    close(s, np.linalg.svd(B, compute_uv=False))
    close(la.svd(mx.array(B), compute_uv=False), np.linalg.svd(B, compute_uv=False))
    us = to_np(u)[:, :, :3] * to_np(s)[:, None, :]
    close(us @ to_np(vt), B)


def test_inverses():
    close(la.inv(mx.array(M)), np.linalg.inv(M), tol=1e-3)
    close(la.pinv(mx.array(B)), np.linalg.pinv(B), tol=1e-3)
    lo = np.tril(M) + 4 * np.eye(3, dtype=np.float32)
    close(la.tri_inv(mx.array(lo)), np.linalg.inv(lo), tol=1e-3)
    close(la.tri_inv(mx.array(lo.T.copy()), upper=True), np.linalg.inv(lo.T), tol=1e-3)
    L = la.cholesky(mx.array(SPD))
    close(L, np.linalg.cholesky(SPD))
    close(la.cholesky(mx.array(SPD), upper=True), np.linalg.cholesky(SPD).T)
    close(la.cholesky_inv(L), np.linalg.inv(SPD), tol=1e-3)


def test_lu_solve():
    p, l, u = la.lu(mx.array(M))
    assert p.dtype == mx.uint32
    close(to_np(l)[to_np(p).astype(int)] @ to_np(u), M)  # MLX's convention: A = L[P] @ U
    lu, piv = la.lu_factor(mx.array(M))
    assert lu.shape == (3, 3) and piv.shape == (3,)
    b = RNG.standard_normal((3,)).astype(np.float32)
    close(la.solve(mx.array(M), mx.array(b)), np.linalg.solve(M, b), tol=1e-3)
    bm = RNG.standard_normal((3, 2)).astype(np.float32)
    close(la.solve(mx.array(M), mx.array(bm)), np.linalg.solve(M, bm), tol=1e-3)
    lo = np.tril(M) + 4 * np.eye(3, dtype=np.float32)
    close(la.solve_triangular(mx.array(lo), mx.array(bm)), np.linalg.solve(lo, bm), tol=1e-3)
    close(la.solve_triangular(mx.array(lo.T.copy()), mx.array(bm), upper=True),
          np.linalg.solve(lo.T, bm), tol=1e-3)


def test_cross_eig():
    a, b = RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))
    close(la.cross(mx.array(a, mx.float32), mx.array(b, mx.float32)), np.cross(a, b))
    close(la.cross(mx.array(a.T.copy(), mx.float32), mx.array(b.T.copy(), mx.float32), axis=0),
          np.cross(a.T, b.T, axis=0))
    w, v = la.eigh(mx.array(SPD))
    ew, ev = np.linalg.eigh(SPD)
    close(w, ew)
    close(np.abs(to_np(v)), np.abs(ev), tol=1e-3)
    close(la.eigvalsh(mx.array(SPD), UPLO="U"), ew)
    vals = to_np(la.eigvals(mx.array(M)))
    np.testing.assert_allclose(np.sort_complex(vals), np.sort_complex(np.linalg.eigvals(M)),
                               rtol=1e-3, atol=1e-3)
    w2, v2 = la.eig(mx.array(M))
    A = M.astype(np.complex64)
    np.testing.assert_allclose(A @ to_np(v2), to_np(v2) * to_np(w2)[None, :], atol=1e-3)


def test_linalg_errors():
    with pytest.raises(ValueError):
        la.inv(mx.array([1.0, 2.0]))
    with pytest.raises(ValueError):
        la.eigh(mx.array(SPD), UPLO="X")
    with pytest.raises(ValueError):
        la.norm(mx.array(B), "fro", 1)
