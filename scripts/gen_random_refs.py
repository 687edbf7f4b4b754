#!/usr/bin/env python3
"""Generates tests/data/random_refs.h: reference draws for tests/test_random.c.

The values come from an independent NumPy implementation of MLX's random module (Threefry-2x32
with 20 rounds, MLX's counter layout for bits/split, and the float pipelines of uniform, normal,
truncated_normal, gumbel, laplace, randint, bernoulli, categorical and permutation). Transcendental
steps use correctly rounded float32 results (double precision rounded once), so the C library's
logf may differ from them in the last bit; the tests compare those with a small tolerance and
everything else exactly.

Usage: python3 scripts/gen_random_refs.py > tests/data/random_refs.h
"""
import math
import sys
from fractions import Fraction

import numpy as np

M32 = 0xFFFFFFFF


def rotl(x, r):
    return ((x << r) | (x >> (32 - r))) & M32


def threefry(k0, k1, c0, c1):
    ks = [k0, k1, k0 ^ k1 ^ 0x1BD11BDA]
    x0, x1 = (c0 + ks[0]) & M32, (c1 + ks[1]) & M32
    rots = [(13, 15, 26, 6), (17, 29, 16, 24)]
    for i in range(5):
        for r in rots[i % 2]:
            x0 = (x0 + x1) & M32
            x1 = rotl(x1, r) ^ x0
        x0 = (x0 + ks[(i + 1) % 3]) & M32
        x1 = (x1 + ks[(i + 2) % 3] + i + 1) & M32
    return x0, x1


# Random123 known answers (also pinned in the C test).
assert threefry(0, 0, 0, 0) == (0x6B200159, 0x99BA4EFE)
assert threefry(M32, M32, M32, M32) == (0x1CB996FC, 0xBB002BE7)
assert threefry(0x13198A2E, 0x03707344, 0x243F6A88, 0x85A308D3) == (0xC4923A9C, 0x483DF7A0)


def key(seed):
    return (seed >> 32) & M32, seed & M32


def words(k, n):
    """MLX's RandomBits stream of n 32-bit words for key k."""
    out = [0] * n
    half, h = n // 2, (n + 1) // 2
    for j in range(h):
        a, b = threefry(k[0], k[1], j, j + h if j < half else 0)
        out[j] = a
        if j < half:
            out[j + h] = b
    return out


def bits(k, n, width):
    nbytes = n * width
    w = words(k, (nbytes + 3) // 4)
    raw = b"".join(x.to_bytes(4, "little") for x in w)[:nbytes]
    return list(np.frombuffer(raw, dtype={1: np.uint8, 2: np.uint16, 4: np.uint32}[width]))


def split(k, num):
    w = words(k, 2 * num)
    return [(w[2 * i], w[2 * i + 1]) for i in range(num)]


# MLX's own published values (tests/random_tests.cpp) for the layout.
assert split(key(0), 2) == [(4146024105, 967050713), (2718843009, 1272950319)]
assert bits(key(0), 5, 2) == [20137, 63263, 64300, 20622, 16513]

# ---- float32 / float16 / bfloat16 arithmetic ----

f32 = np.float32


def r32(x):
    return float(np.float32(x))


def rbf16(x):
    u = int(np.array([x], dtype=np.float32).view(np.uint32)[0])
    if (u & 0x7FFFFFFF) > 0x7F800000:
        u = (u | 0x400000) & 0xFFFF0000
    else:
        u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return float(np.array([u], dtype=np.uint32).view(np.float32)[0])


ROUND = {"f32": r32, "f16": lambda x: float(np.float16(np.float32(x))), "bf16": rbf16}
BELOW_ONE = {"f32": 1 - 2**-24, "f16": 1 - 2**-11, "bf16": 1 - 2**-8}


def unit(fmt, w):
    x = r32(float(np.float32(w)) * 2.0**-32)
    return ROUND[fmt](min(x, BELOW_ONE[fmt]))


def round_fraction_f32(q):
    """The float32 nearest to the exact rational q (ties to even)."""
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = q.numerator.bit_length() - q.denominator.bit_length()
    if Fraction(2) ** e > q:
        e -= 1
    e = max(e, -126)
    scale = Fraction(2) ** (23 - e)
    m = q * scale
    n = m.numerator // m.denominator
    rem = m - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n % 2 == 1):
        n += 1
    return sign * float(Fraction(n) / scale)


def fmaf(a, b, c):
    return round_fraction_f32(Fraction(a) * Fraction(b) + Fraction(c))


def logf(x):
    if x == 0:
        return -math.inf
    if math.isinf(x):
        return math.inf
    return r32(math.log(x))


def erfinv(a):
    t = logf(fmaf(a, r32(0.0 - a), 1.0))
    if abs(t) > 6.125:
        cs = [3.03697567e-10, 2.93243101e-8, 1.22150334e-6, 2.84108955e-5, 3.93552968e-4,
              3.02698812e-3, 4.83185798e-3, -2.64646143e-1, 8.40016484e-1]
    else:
        cs = [5.43877832e-9, 1.43285448e-7, 1.22774793e-6, 1.12963626e-7, -5.61530760e-5,
              -1.47697632e-4, 2.31468678e-3, 1.15392581e-2, -2.32015476e-1, 8.86226892e-1]
    cs = [r32(c) for c in cs]
    p = cs[0]
    for c in cs[1:]:
        p = fmaf(p, t, c)
    return r32(a * p)


def exp_poly(x0):
    if math.isnan(x0):
        return x0
    if x0 > 88:
        return math.inf
    if x0 < -88:
        return 0.0
    x = r32(x0 * r32(1.442695))
    ipart = r32(math.floor(x + 0.5))
    fpart = r32(x - ipart)
    cs = [1.535336188319500e-4, 1.339887440266574e-3, 9.618437357674640e-3, 5.550332471162809e-2,
          2.402264791363012e-1, 6.931472028550421e-1, 1.0]
    p = r32(cs[0])
    for c in cs[1:]:
        p = fmaf(p, fpart, r32(c))
    return r32(2.0 ** int(ipart) * p)


def erf(x):
    t = r32(1.0 / fmaf(r32(0.3275911), abs(x), 1.0))
    r = fmaf(r32(1.061405429), t, r32(-1.453152027))
    for c in [1.421413741, -0.284496736, 0.254829592]:
        r = fmaf(r, t, r32(c))
    e = -exp_poly(r32(-x * x))
    y = fmaf(r32(e * t), r, 1.0)
    return y if x > 0 else -y


def unit_symmetric(w):
    lo = r32(-1 + 2**-24)
    rng = r32(1.0 - lo)
    return r32(r32(rng * unit("f32", w)) + lo)


# ---- the samplers ----


def uniform(k, n, lo, hi, fmt):
    R = ROUND[fmt]
    lo, hi = R(lo), R(hi)
    rng = R(hi - lo)
    return [R(R(rng * unit(fmt, w)) + lo) for w in words(k, n)]


def normal(k, n, fmt, loc=0.0, scale=1.0):
    R = ROUND[fmt]
    s = R(R(math.sqrt(2.0)) * R(scale))
    out = []
    for w in words(k, n):
        v = R(s * R(erfinv(unit_symmetric(w))))
        if loc != 0:
            v = R(R(loc) + v)
        out.append(v)
    return out


def truncated_normal(k, n, lower, upper):
    s2 = r32(math.sqrt(2.0))
    lower, upper = r32(lower), r32(upper)
    a, b = erf(r32(lower / s2)), erf(r32(upper / s2))
    rng = r32(b - a)
    out = []
    for w in words(k, n):
        u = r32(r32(rng * unit("f32", w)) + a)
        v = r32(s2 * erfinv(u))
        out.append(max(min(upper, v), lower))
    return out


def gumbel(k, n):
    return [-logf(-logf(unit("f32", w))) for w in words(k, n)]


def laplace(k, n, loc, scale):
    out = []
    for w in words(k, n):
        u = unit_symmetric(w)
        sgn = (u > 0) - (u < 0)
        v = r32(sgn * r32(math.log1p(-abs(u))))
        if scale != 1:
            v = r32(r32(scale) * v)
        if loc != 0:
            v = r32(r32(loc) + v)
        out.append(v)
    return out


def randint(k, n, low, high, bits64=False):
    """MLX's randint for integer bounds: raw bits modulo the uint64 width, added to low (the
    caller wraps the result into its dtype). 64-bit dtypes combine two draws from a split key."""
    M64 = (1 << 64) - 1
    width = (high - low) & M64 if high > low else 1
    if bits64:
        k1, k2 = split(k, 2)
        raw = [(b << 32) | a for a, b in zip(words(k1, n), words(k2, n))]
    else:
        raw = words(k, n)
    return [((low & M64) + r % width) & M64 for r in raw]


def wrap(v, bits, signed):
    v &= (1 << bits) - 1
    return v - (1 << bits) if signed and v >> (bits - 1) else v


def bernoulli(k, n, p):
    t = r32(r32(p) * 4294967808.0)
    return [int(r32(w) < t) for w in words(k, n)]


def permutation(k, n):
    w = words(k, n)
    return sorted(range(n), key=lambda i: (w[i], i))


def categorical(k, logits, samples):
    """logits (B, C), axis -1, `samples` draws per row: noise of shape (B, C, samples)."""
    B, C = len(logits), len(logits[0])
    g = gumbel(k, B * C * samples)
    out = []
    for b in range(B):
        row = []
        for s in range(samples):
            vals = [r32(g[(b * C + c) * samples + s] + logits[b][c]) for c in range(C)]
            row.append(max(range(C), key=lambda c: (vals[c], -c)))
        out.append(row)
    return out


# ---- output ----


def c_array(ctype, name, values, fmt):
    body = ", ".join(fmt(v) for v in values)
    return f"static const {ctype} {name}[{len(values)}] = {{{body}}};"


def hexf(v):
    return float(v).hex()


def main():
    lines = [
        "/* Generated by scripts/gen_random_refs.py; do not edit. Reference draws of MLX's random",
        " * algorithms from an independent NumPy implementation. */",
        "#ifndef LZ_RANDOM_REFS_H",
        "#define LZ_RANDOM_REFS_H",
        "#include <stdint.h>",
        "",
    ]
    u32 = lambda v: f"{int(v)}u"
    i32 = lambda v: f"{int(v)}"
    fl = lambda v: hexf(v)

    lines.append(c_array("uint32_t", "ref_bits_s42_n7", bits(key(42), 7, 4), u32))
    lines.append(c_array("uint32_t", "ref_bits_big_n10", bits(key(0x0123456789ABCDEF), 10, 4), u32))
    lines.append(c_array("uint16_t", "ref_bits16_s7_n7", bits(key(7), 7, 2), u32))
    lines.append(c_array("uint8_t", "ref_bits8_s7_n13", bits(key(7), 13, 1), u32))
    lines.append(c_array("uint8_t", "ref_bits8_s7_n3", bits(key(7), 3, 1), u32))
    lines.append(c_array("uint32_t", "ref_split_s42_5", [w for kk in split(key(42), 5) for w in kk], u32))

    # The global sequence after seed(5): each call takes split(state)[1] and keeps split[0].
    state, seq = key(5), []
    for _ in range(2):
        s0, s1 = split(state, 2)
        state = s0
        seq += bits(s1, 4, 4)
    lines.append(c_array("uint32_t", "ref_global_s5", seq, u32))

    lines.append(c_array("float", "ref_uniform_f32_s3", uniform(key(3), 6, -2, 5, "f32"), fl))
    lines.append(c_array("float", "ref_uniform_f16_s3", uniform(key(3), 6, -1, 3, "f16"), fl))
    lines.append(c_array("float", "ref_uniform_bf16_s3", uniform(key(3), 6, -1, 3, "bf16"), fl))
    lines.append(c_array("float", "ref_normal_f32_s11", normal(key(11), 8, "f32"), fl))
    lines.append(c_array("float", "ref_normal_f16_s11", normal(key(11), 8, "f16", 1.0, 2.0), fl))
    lines.append(c_array("float", "ref_truncnorm_f32_s13", truncated_normal(key(13), 8, -1, 2), fl))
    lines.append(c_array("float", "ref_gumbel_f32_s17", gumbel(key(17), 6), fl))
    lines.append(c_array("float", "ref_laplace_f32_s19", laplace(key(19), 6, 0.5, 2.0), fl))
    lines.append(c_array("int32_t", "ref_randint_s23",
                         [wrap(v, 32, True) for v in randint(key(23), 10, -5, 17)], i32))
    big = [wrap(v, 64, True) for v in randint(key(24), 8, -(1 << 62), 1 << 62, bits64=True)]
    lines.append(c_array("int64_t", "ref_randint_i64_s24", big, lambda v: f"{v}LL"))
    lines.append(c_array("uint8_t", "ref_randint_u8_s25",
                         [wrap(v, 8, False) for v in randint(key(25), 12, 3, 250)], str))
    lines.append(c_array("uint8_t", "ref_bernoulli_s29", bernoulli(key(29), 16, 0.3), i32))
    lines.append(c_array("uint32_t", "ref_permutation_s31", permutation(key(31), 10), u32))
    logits = [[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]]
    cat = categorical(key(37), logits, 5)
    lines.append(c_array("uint32_t", "ref_categorical_s37", [v for row in cat for v in row], u32))
    lines += ["", "#endif /* LZ_RANDOM_REFS_H */", ""]
    sys.stdout.write("\n".join(lines))


if __name__ == "__main__":
    main()
