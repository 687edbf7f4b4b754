"""Fits the float32 polynomial coefficients of src/cpu/vmath_avx2.c.

Each fit is a weighted minimax (Lawson's iteratively reweighted least squares on Chebyshev
nodes, references from mpmath at 40 digits); the coefficients are then rounded to float32 one
at a time, lowest power first, refitting the remaining ones after each rounding so the
rounding errors are absorbed. Prints C initialisers and the fitted (exact-arithmetic) error.
Run: /usr/bin/python3 scripts/gen_vmath_coeffs.py
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40


def fit(f, powers, lo, hi, weight, npts=3000, iters=400, fixed=None):
    """Coefficients c_k of sum c_k x^powers[k] minimising max |weight(x) (f(x) - sum)|."""
    xs = [mp.mpf(lo) + (mp.mpf(hi) - lo) * (1 - mp.cos(mp.pi * (i + 0.5) / npts)) / 2
          for i in range(npts)]
    fx = np.array([float(f(x)) for x in xs])
    wx = np.array([float(weight(x)) for x in xs])
    x = np.array([float(v) for v in xs])
    fixed = dict(fixed or {})
    free = [p for p in powers if p not in fixed]
    target = fx - sum(c * x ** p for p, c in fixed.items())
    if not free:
        return dict(fixed), np.max(np.abs(target * wx))
    A = np.stack([x ** p for p in free], axis=1) * wx[:, None]
    b = target * wx
    u = np.ones(npts) / npts
    for _ in range(iters):
        sw = np.sqrt(u)
        c, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
        err = np.abs(A @ c - b)
        u = u * err
        u /= u.sum()
    out = dict(fixed)
    out.update(zip(free, c))
    err = np.max(np.abs(A @ c - b))
    return out, err


def fit_f32(f, powers, lo, hi, weight, fixed=None):
    fixed = dict(fixed or {})
    for p in powers:
        if p in fixed:
            continue
        coef, _ = fit(f, powers, lo, hi, weight, fixed=fixed)
        fixed[p] = float(np.float32(coef[p]))
    coef, err = fit(f, powers, lo, hi, weight, fixed=fixed, iters=1)
    return [coef[p] for p in powers], err


def show(name, coefs, err):
    body = ", ".join("%.9ef" % c for c in coefs)
    print("/* %s: max weighted error %.3g (2^%.1f) */" % (name, err, np.log2(err)))
    print("  {%s}," % body)


def near_float_center(ctr):
    """A float32 c near ctr whose erf(c) is closest to a float32 (so the constant term of the
    interval's polynomial is nearly exact)."""
    best = None
    for i in range(-3000, 3000):
        c = float(np.float32(ctr) + np.float32(i) * np.float32(2.0 ** -20))
        v = mp.erf(c)
        d = abs(float(v - mp.mpf(float(np.float32(float(v))))))
        if best is None or d < best[0]:
            best = (d, c, float(np.float32(float(v))))
    return best[1], best[2]


def main():
    ln2h = float(mp.log(2) / 2) * 1.0005
    # expm1(r) = r + r^2 (1/2 + r Q(r)), relative error; exp uses it too.
    c, e = fit_f32(lambda r: (mp.expm1(r) - r) / r ** 2 if r != 0 else mp.mpf(0.5),
                   [0, 1, 2, 3, 4, 5], -ln2h, ln2h,
                   lambda r: r ** 2 / mp.expm1(r) if r != 0 else 1, fixed={0: 0.5})
    show("EXPM1_C: expm1(r) = r + r^2 P(r), |r| <= ln2/2", c, e)
    c, e = fit_f32(lambda t: (mp.log1p(t) - t + t * t / 2) / t ** 3 if t != 0 else mp.mpf(1) / 3,
                   list(range(0, 8)), -0.3334, 0.3334,
                   lambda t: t ** 3 / mp.log1p(t) if t != 0 else 0)
    show("LOG1P_C: log1p(f) = f - f^2/2 + f^3 P(f), |f| <= 1/3", c, e)
    q = float(mp.pi / 4) * 1.0001
    c, e = fit_f32(lambda r: (mp.sin(r) - r) / r ** 3 if r != 0 else -mp.mpf(1) / 6,
                   [0, 2, 4, 6], 0, q, lambda r: r ** 3 / mp.sin(r) if r != 0 else 0)
    show("SIN_C: sin(r) = r + r^3 S(r^2), |r| <= pi/4", c, e)
    c, e = fit_f32(lambda r: (mp.cos(r) - 1 + r * r / 2) / r ** 4 if r != 0 else mp.mpf(1) / 24,
                   [0, 2, 4], 0, q, lambda r: r ** 4 / mp.cos(r))
    show("COS_C: cos(r) = 1 - r^2/2 + r^4 C(r^2), |r| <= pi/4", c, e)
    T = 0.5625
    c, e = fit_f32(lambda x: (mp.tanh(x) - x) / x ** 3 if x != 0 else -mp.mpf(1) / 3,
                   [0, 2, 4, 6, 8], 0, T, lambda x: x ** 3 / mp.tanh(x) if x != 0 else 0)
    show("TANH_C: tanh(x) = x + x^3 P(x^2), |x| <= %g" % T, c, e)
    # erf: [0, 1/2): x + x Q(x^2); then 7 intervals of 1/2, P(|x| - c) of degree 7.
    c, e = fit_f32(lambda v: (mp.erf(mp.sqrt(v)) / mp.sqrt(v) - 1) if v != 0 else 2 / mp.sqrt(mp.pi) - 1,
                   list(range(0, 6)), 0, 0.25,
                   lambda v: 1 / (mp.erf(mp.sqrt(v)) / mp.sqrt(v)) if v != 0 else 1)
    show("erf(x) = x + x Q(x^2), [0, 1/2)", c, e)
    rows, ctrs = [c + [0.0, 0.0]], [0.0]
    for k in range(1, 8):
        ck, v0 = near_float_center(k / 2 + 0.25)
        c, e = fit_f32(lambda t: mp.erf(ck + t), list(range(0, 8)), k / 2 - ck, (k + 1) / 2 - ck,
                       lambda t: 1, fixed={0: v0})
        rows.append(c)
        ctrs.append(ck)
        show("erf(%.17g + t) on [%g, %g)" % (ck, k / 2, (k + 1) / 2), c, e)
    print("ERF_CTR: {%s}" % ", ".join(repr(v) for v in ctrs))
    print("ERF_C [power][interval]:")
    for p in range(8):
        print("  {%s}," % ", ".join("%.9ef" % rows[k][p] for k in range(8)))


if __name__ == "__main__":
    main()
