#!/usr/bin/env python3
"""Lists the names of MLX's current Python API (mlx.core and its random, linalg, fft, fast
submodules) that lazuli.core lacks, with the reason where one is known.

The names are those of python/tests/test_api_names.py (written from MLX's documentation,
docs/src/python/*.rst, and the m.def rows of python/src/ops.cpp, transforms.cpp, fast.cpp) plus
MLX's names that are GPU- or Metal-specific, listed here so that the report accounts for every
documented name. Usage:
    PYTHONPATH=build/release/python python3 scripts/mlx_missing_names.py [--strict]
--strict exits 1 when a name is missing without a known reason."""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python", "tests"))

import lazuli.core as mx  # noqa: E402
import test_api_names as names  # noqa: E402

# MLX names outside the lists of test_api_names.py: the device-specific kernels and settings,
# printing options and the config module. Each has its reason here.
EXTRA = {
    "core": {
        "set_printoptions": "printing options: the C library prints with fixed settings",
        "get_printoptions": "printing options: the C library prints with fixed settings",
        "printoptions": "printing options: the C library prints with fixed settings",
        "PrintOptions": "printing options: the C library prints with fixed settings",
        "get_array_buffer_size": "the C API exposes no buffer identity or allocation size to "
                                 "count each buffer once",
        "StreamContextManager": "CPU streams only; lazuli.core.stream returns StreamContext",
        "config": "the mlx.core.config module (update/get/scoped_update) has no settings to "
                  "hold on the CPU",
    },
    "fast": {
        "metal_kernel": "Metal source kernels: no GPU",
        "cuda_kernel": "CUDA source kernels: no GPU",
        "precompiled_cuda_kernel": "CUDA kernels: no GPU",
    },
}

# Why the excused names of test_api_names.py are missing.
REASONS = {
    "depends": "no C API for an ordering-only dependency between arrays",
    "qqmm": "no C op: quantized x quantized products (nvfp4/mxfp8 activations; MLX runs "
            "them on CUDA)",
    "gather_qqmm": "no C op: quantized x quantized products (nvfp4/mxfp8 activations; MLX "
                   "runs them on CUDA)",
}


def missing():
    """(module, name, reason or None) for every MLX name lazuli.core lacks."""
    out = []
    for n in names.OPS + names.CORE + names.TRANSFORMS:
        if not hasattr(mx, n):
            out.append(("core", n, REASONS.get(n)))
    for sub, subnames in names.SUBMODULES.items():
        module = getattr(mx, sub)
        for n in subnames:
            if not hasattr(module, n):
                out.append((sub, n, REASONS.get(n)))
    for sub, extra in EXTRA.items():
        module = mx if sub == "core" else getattr(mx, sub)
        for n, why in extra.items():
            if not hasattr(module, n):
                out.append((sub, n, why))
    return out


def main():
    rows = missing()
    for sub, n, why in rows:
        where = "lazuli.core" if sub == "core" else f"lazuli.core.{sub}"
        print(f"{where}.{n}: {why or 'MISSING, no known reason'}")
    total = len(names.OPS + names.CORE + names.TRANSFORMS) + sum(
        len(v) for v in names.SUBMODULES.values()) + sum(len(v) for v in EXTRA.values())
    print(f"{len(rows)} of {total} MLX names missing")
    if "--strict" in sys.argv and any(why is None for _, _, why in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
