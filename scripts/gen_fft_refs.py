#!/usr/bin/env python3
"""Writes tests/data/fft_refs.h: inputs and numpy.fft results for the FFT tests.
Run from the repository root: python3 scripts/gen_fft_refs.py"""
import numpy as np

rng = np.random.default_rng(20240612)
arrays = []  # (name, values)
cases = []   # C initialisers of lzf_case


def arr(x):
    x = np.asarray(x)
    if np.iscomplexobj(x):
        x = np.stack([x.real, x.imag], axis=-1)
    name = "lzf_d%d" % len(arrays)
    arrays.append((name, np.asarray(x, dtype=np.float64).ravel()))
    return name


def data(shape, cplx):
    x = np.round(rng.standard_normal(shape), 3)
    if cplx:
        x = x + 1j * np.round(rng.standard_normal(shape), 3)
    return x


def ints(v, n=4):
    v = list(v) + [0] * (n - len(v))
    return "{" + ", ".join(str(int(i)) for i in v) + "}"


NORMS = {None: -1, "backward": 0, "ortho": 1, "forward": 2}  # None: the form without a norm


def case(fn, x, out, s=None, axes=None, d=0.0, norm=None):
    """s: sizes (n for one-axis functions), axes: axes (axis); None means the default."""
    out = np.asarray(out)
    cases.append(
        '{"%s", %d, %s, %d, %s, %d, %s, %d, %s, %d, %s, %d, %s, %r, %d}'
        % (fn, x.ndim, ints(x.shape), int(np.iscomplexobj(x)), arr(x),
           -1 if s is None else len(s), ints(s or []),
           -1 if axes is None else len(axes), ints(axes or []),
           out.ndim, ints(out.shape), int(np.iscomplexobj(out)), arr(out), float(d), NORMS[norm]))


F = np.fft
# one axis: (function, shape, complex input, n, axis)
for fn, shape, cplx, n, axis in [
        ("fft", (8,), False, None, -1), ("fft", (5, 6), True, None, 0), ("fft", (5, 6), True, 4, 1),
        ("fft", (5, 6), True, 10, -1), ("fft", (3, 4, 5), True, None, 1), ("fft", (7,), True, 3, 0),
        ("ifft", (8,), True, None, -1), ("ifft", (3, 4, 5), True, 6, 1), ("ifft", (6, 5), True, 3, 0),
        ("rfft", (8,), False, None, -1), ("rfft", (7,), False, None, 0), ("rfft", (6, 3), False, None, 0),
        ("rfft", (4, 9), False, 6, -1), ("rfft", (4, 5), False, 12, 1), ("rfft", (2, 3, 5), False, None, 1),
        ("irfft", (5,), True, None, -1), ("irfft", (5,), True, 9, -1), ("irfft", (5, 3), True, None, 0),
        ("irfft", (4, 6), True, 6, 1), ("irfft", (2, 7, 3), True, 20, 1)]:
    x = data(shape, cplx)
    kw = {} if n is None else {"n": n}
    case(fn, x, getattr(F, fn)(x, axis=axis, **kw), None if n is None else [n], [axis])

# several axes: (function, shape, complex input, s, axes)
for fn, shape, cplx, s, axes in [
        ("fft2", (4, 6), True, None, None), ("fft2", (3, 4, 5), False, [4, 8], [0, 2]),
        ("fft2", (2, 5, 6), True, [3, 3], None),
        ("ifft2", (4, 6), True, None, None), ("ifft2", (3, 4, 5), True, None, [2, 0]),
        ("fftn", (2, 3, 4), True, None, None), ("fftn", (2, 3, 4), True, [5, 2], None),
        ("fftn", (2, 3, 4), False, None, [2, 0]), ("fftn", (3, 4, 5), True, [2, 6, 4], [1, 0, 2]),
        ("ifftn", (2, 3, 4), True, None, None), ("ifftn", (4, 3, 2), True, [3, 3], [0, 1]),
        ("rfft2", (4, 6), False, None, None), ("rfft2", (3, 4, 5), False, [4, 8], [0, 2]),
        ("rfft2", (5, 4), False, None, [1, 0]),
        ("irfft2", (4, 4), True, None, None), ("irfft2", (3, 4, 5), True, [4, 7], [2, 1]),
        ("rfftn", (2, 3, 4), False, None, None), ("rfftn", (3, 4, 6), False, [5, 3], None),
        ("rfftn", (3, 4, 6), False, None, [2, 1, 0]),
        ("irfftn", (2, 3, 4), True, None, None), ("irfftn", (3, 4, 5), True, [4, 6], [0, 2]),
        ("irfftn", (2, 4, 3), True, [3, 5], None)]:
    x = data(shape, cplx)
    kw = {}
    if s is not None:
        kw["s"] = s
    if axes is not None:
        kw["axes"] = axes
    case(fn, x, getattr(F, fn)(x, **kw), s, axes)

for n, d in [(8, 1.0), (7, 0.1), (1, 2.0), (10, 0.5)]:
    case("fftfreq", np.zeros(1), F.fftfreq(n, d), [n], None, d)
    case("rfftfreq", np.zeros(1), F.rfftfreq(n, d), [n], None, d)

for fn in ("fftshift", "ifftshift"):
    for shape, axes in [((8,), None), ((5, 6), None), ((5, 7), [1]), ((3, 4, 5), [0, 2])]:
        x = data(shape, False)
        case(fn, x, getattr(F, fn)(x, axes=axes), None, axes)

# every transform under each norm (numpy's norm= has MLX's meaning)
for norm in ("backward", "ortho", "forward"):
    for fn, shape, cplx, n, axis in [
            ("fft", (5, 6), True, None, 1), ("ifft", (6, 5), True, 4, 0),
            ("rfft", (4, 9), False, None, -1), ("irfft", (3, 5), True, 7, -1)]:
        x = data(shape, cplx)
        kw = {} if n is None else {"n": n}
        case(fn, x, getattr(F, fn)(x, axis=axis, norm=norm, **kw), None if n is None else [n],
             [axis], norm=norm)
    for fn, shape, cplx, s, axes in [
            ("fft2", (3, 4, 5), True, None, None), ("ifft2", (4, 6), True, [3, 5], None),
            ("rfft2", (3, 4, 5), False, None, [0, 2]), ("irfft2", (3, 4, 5), True, [4, 7], [2, 1]),
            ("fftn", (2, 3, 4), True, None, None), ("ifftn", (3, 4, 5), True, [2, 6], [1, 2]),
            ("rfftn", (3, 4, 6), False, None, None), ("irfftn", (2, 4, 3), True, [3, 5], None)]:
        x = data(shape, cplx)
        kw = {"norm": norm}
        if s is not None:
            kw["s"] = s
        if axes is not None:
            kw["axes"] = axes
        case(fn, x, getattr(F, fn)(x, **kw), s, axes, norm=norm)

with open("tests/data/fft_refs.h", "w") as f:
    f.write("/* Generated by scripts/gen_fft_refs.py (NumPy %s); do not edit. */\n" % np.__version__)
    f.write("#ifndef LZ_FFT_REFS_H\n#define LZ_FFT_REFS_H\n\n")
    f.write("""/* One reference: fn(x, s, axes) == out. Complex data is interleaved (re, im). ns / naxes
 * are -1 for "not given" (the function's default); for one-axis functions s[0] is n and
 * axes[0] the axis; for fftfreq s[0] is n and d the spacing. */
typedef struct lzf_case {
  const char *fn;
  int ndim, shape[4], complex_in;
  const double *in;
  int ns, s[4], naxes, axes[4];
  int ondim, oshape[4], complex_out;
  const double *out;
  double d;
  int norm; /* -1: the form without a norm; else the lz_fft_norm of the _v2 form */
} lzf_case;

""")
    for name, v in arrays:
        f.write("static const double %s[] = {%s};\n" % (name, ", ".join(repr(float(a)) for a in v)))
    f.write("\nstatic const lzf_case lzf_cases[] = {\n")
    for c in cases:
        f.write("    " + c + ",\n")
    f.write("};\n\n#endif /* LZ_FFT_REFS_H */\n")
