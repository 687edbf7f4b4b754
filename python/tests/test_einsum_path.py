"""einsum_path: MLX's contraction order (NumPy's greedy algorithm) and its cost report, against
np.einsum_path(..., optimize='greedy') where the two algorithms agree (every step an inner
contraction), against the cost formulas, and by following the path with NumPy."""
import numpy as np
import pytest

import lazuli.core as mx

RNG = np.random.default_rng(3)

CASES = [
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ab,bc,cd,de->ae", [(10, 2), (2, 30), (30, 4), (4, 50)]),
    ("ea,fb,abcd,gc,hd->efgh", [(5, 6), (4, 7), (6, 7, 3, 2), (9, 3), (8, 2)]),
    ("abc,bd,cd,a->", [(3, 4, 5), (4, 6), (5, 6), (3,)]),
    ("ij,jk", [(3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("ii->i", [(3, 3)]),
    ("bij,bjk,bkl->bil", [(2, 3, 4), (2, 4, 5), (2, 5, 6)]),
]


def operands(shapes):
    return [RNG.standard_normal(s).astype(np.float32) for s in shapes]


def letters(eq):
    return {c for c in eq.split("->")[0] if c.isalpha()}


@pytest.mark.parametrize("eq,shapes", CASES)
def test_path_matches_numpy_greedy(eq, shapes):
    ops = operands(shapes)
    path, info = mx.einsum_path(eq, *[mx.array(o) for o in ops])
    assert isinstance(path, list) and all(isinstance(p, tuple) for p in path)
    expected = np.einsum_path(eq, *ops, optimize="greedy")[0][1:]
    assert path == [tuple(p) for p in expected]
    # following the path gives einsum's values
    np.testing.assert_allclose(np.array(mx.einsum(eq, *[mx.array(o) for o in ops])),
                               np.einsum(eq, *ops, optimize=["einsum_path", *path]),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("eq,shapes", CASES)
def test_report(eq, shapes):
    ops = operands(shapes)
    path, info = mx.einsum_path(eq, *[mx.array(o) for o in ops])
    lines = info.split("\n")
    assert lines[0] == "  Complete contraction:  " + eq and lines[-1] == "" and len(lines) == 6
    fields = {l.split(":")[0].strip(): int(l.split(":")[1]) for l in lines[1:5]}
    # the naive contraction: every letter at once, times max(1, n - 1) (+1 when summing)
    dims = {}
    for sub, op in zip(eq.split("->")[0].split(","), ops):
        sub = sub.replace("...", "")  # the ellipsis dims are leading: zip from the end
        for c, d in zip(sub[::-1], op.shape[::-1]):
            dims[c] = max(dims.get(c, 1), d)
    size = int(np.prod([dims[c] for c in letters(eq)]))
    out = set(eq.split("->")[1]) if "->" in eq else {c for c in letters(eq)
                                                      if eq.count(c) == 1}
    inner = bool(letters(eq) - out)
    if "..." not in eq:
        assert fields["Naive scaling"] == len(letters(eq))
        assert fields["Naive FLOP count"] == size * (max(1, len(ops) - 1) + inner)
    assert 0 < fields["Optimized FLOP count"] <= fields["Naive FLOP count"]
    assert fields["Optimized scaling"] <= fields["Naive scaling"]
    if len(ops) <= 2:
        assert fields["Optimized FLOP count"] == fields["Naive FLOP count"]


def _has_outer_step(subs, out, path):
    """Whether following `path` ever contracts terms that share no letter (or more than two)."""
    terms = [set(t) for t in subs]
    for step in path:
        if len(step) != 2 or not terms[step[0]] & terms[step[1]]:
            return True
        a, b = terms[step[0]], terms[step[1]]
        rest = [t for i, t in enumerate(terms) if i not in step]
        terms = rest + [(a | b) & set().union(set(out), *rest)]
    return False


def test_random_paths_match_numpy_greedy():
    """Random contractions of 3-6 operands: wherever neither path needs an outer product (the
    one phase where MLX's greedy differs from NumPy's), the paths are the same; every path
    gives einsum's values."""
    rng = np.random.default_rng(11)
    compared = 0
    for _ in range(300):
        n = int(rng.integers(3, 7))
        subs = ["".join(rng.choice(list("abcdef"), int(rng.integers(1, 4)), replace=False))
                for _ in range(n)]
        letters_used = sorted(set("".join(subs)))
        out = "".join(c for c in letters_used if rng.random() < 0.3)
        eq = ",".join(subs) + "->" + out
        dims = {c: int(rng.integers(2, 7)) for c in letters_used}
        ops = [np.ones([dims[c] for c in t], np.float32) for t in subs]
        path, _ = mx.einsum_path(eq, *[mx.array(o) for o in ops])
        np.testing.assert_allclose(np.einsum(eq, *ops, optimize=["einsum_path", *path]),
                                   np.einsum(eq, *ops), rtol=1e-5)
        expected = [tuple(p) for p in np.einsum_path(eq, *ops, optimize="greedy")[0][1:]]
        if _has_outer_step(subs, out, path) or _has_outer_step(subs, out, expected):
            continue
        compared += 1
        assert path == expected, (eq, dims)
    assert compared > 100


def test_outer_products_pair_up():
    """Only outer products left: MLX's greedy pairs them (NumPy's takes all at once)."""
    ops = operands([(2,), (3,), (4,)])
    path, info = mx.einsum_path("i,j,k->ijk", *[mx.array(o) for o in ops])
    assert path == [(0, 1), (0, 1)]
    np.testing.assert_allclose(np.einsum("i,j,k->ijk", *ops, optimize=["einsum_path", *path]),
                               np.einsum("i,j,k->ijk", *ops), rtol=1e-6)


def test_errors():
    a, b = mx.ones((2, 3)), mx.ones((3, 4))
    with pytest.raises(ValueError, match="Number of operands"):
        mx.einsum_path("ij,jk->ik", a)
    with pytest.raises(ValueError, match="At least one operand"):
        mx.einsum_path("ij")
    with pytest.raises(ValueError, match="must be letters"):
        mx.einsum_path("i1,jk->ik", a, b)
    with pytest.raises(ValueError, match="Repeat indices"):
        mx.einsum_path("ij,jk->ii", a, b)
    with pytest.raises(ValueError, match="Invalid number of subscripts"):
        mx.einsum_path("ijk,jk->ik", a, b)
    with pytest.raises(ValueError, match="broadcast"):
        mx.einsum_path("ij,jk->ik", a, mx.ones((5, 4)))
    with pytest.raises(ValueError, match="repeated subscripts"):
        mx.einsum_path("ii->i", a)
    with pytest.raises(ValueError, match="insufficient dimensions"):
        mx.einsum_path("...ijk->k", a)
    with pytest.raises(TypeError):
        mx.einsum_path(3, a)
    with pytest.raises(TypeError):
        mx.einsum_path("ij->i", a, stream=None)
