"""lazuli.core.fft against numpy.fft: every transform with n/s, axes and norm, the frequency
helpers and the shifts."""
import numpy as np
import pytest

import lazuli.core as mx
from conftest import to_np

RNG = np.random.default_rng(5)
X = RNG.standard_normal((4, 6, 8)).astype(np.float32)
C = (X + 1j * RNG.standard_normal(X.shape)).astype(np.complex64)


def close(x, e, tol=1e-3):
    assert x.shape == e.shape, (x.shape, e.shape)
    np.testing.assert_allclose(to_np(x), e, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "irfft"])
@pytest.mark.parametrize("n,axis", [(None, -1), (5, -1), (12, 1), (None, 0)])
@pytest.mark.parametrize("norm", [None, "backward", "ortho", "forward"])
def test_one_axis(name, n, axis, norm):
    x = C if name in ("ifft", "irfft") else X
    out = getattr(mx.fft, name)(mx.array(x), n, axis, norm=norm)
    close(out, getattr(np.fft, name)(x, n, axis, norm=norm))


@pytest.mark.parametrize("name", ["fft2", "ifft2", "rfft2", "irfft2", "fftn", "ifftn", "rfftn",
                                  "irfftn"])
@pytest.mark.parametrize("s,axes", [(None, None), ((4, 6), None), (None, (0, 2)),
                                    ((3, 10), (1, 0))], ids=str)
@pytest.mark.parametrize("norm", [None, "ortho", "forward"])
def test_multi_axis(name, s, axes, norm):
    x = C if name.startswith("i") else X
    kwargs = {"norm": norm}
    if axes is not None:
        kwargs["axes"] = axes
    out = getattr(mx.fft, name)(mx.array(x), s, **kwargs)
    close(out, getattr(np.fft, name)(x, s, **kwargs))


def test_helpers():
    close(mx.fft.fftfreq(8), np.fft.fftfreq(8).astype(np.float32))
    close(mx.fft.fftfreq(7, 0.5), np.fft.fftfreq(7, 0.5).astype(np.float32))
    close(mx.fft.rfftfreq(9, d=2.0), np.fft.rfftfreq(9, 2.0).astype(np.float32))
    close(mx.fft.fftshift(mx.array(X)), np.fft.fftshift(X))
    close(mx.fft.ifftshift(mx.array(X), axes=(0, 1)), np.fft.ifftshift(X, axes=(0, 1)))
    close(mx.fft.fftshift(mx.array(X[0, 0]), 0), np.fft.fftshift(X[0, 0], 0))


def test_fft_errors():
    with pytest.raises(ValueError):
        mx.fft.fft(mx.array(X), n=0)
    with pytest.raises(ValueError):
        mx.fft.fft(mx.array(X), norm="twice")
    with pytest.raises(ValueError):
        mx.fft.fftn(mx.array(X), s=(2, 3), axes=(0,))
    with pytest.raises(ValueError):
        mx.fft.fft(mx.array(X), axis=3)
