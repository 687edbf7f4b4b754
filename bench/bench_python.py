#!/usr/bin/env python3
"""Python-side figures of `make bench` (lines "name value unit", as lz_bench prints):

python_op_overhead_ns: a Python loop of `y = y + 1` over a 16-element float32 array, 10^5
ops, then one evaluation; time per op, node building included. This is the cost Python adds on
top of the C library for every array operator (target: at most 400 ns).

Usage: bench_python.py [BUILD_DIR]   (default build/release; uses BUILD_DIR/python)"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
N_OPS = 100_000


def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return xs[n // 2] if n % 2 else 0.5 * (xs[n // 2 - 1] + xs[n // 2])


def op_overhead_ns(make, add_one, finish, reps=5):
    """Median ns per `y = y + 1` over N_OPS ops; `finish` forces the result."""
    ts = []
    for _ in range(reps + 1):
        y = make()
        t0 = time.perf_counter()
        for _ in range(N_OPS):
            y = add_one(y)
        finish(y)
        ts.append(time.perf_counter() - t0)
    return median(ts[1:]) * 1e9 / N_OPS


def lazuli_figures():
    import lazuli.core as mx
    ns = op_overhead_ns(lambda: mx.array([0.0] * 16), lambda y: y + 1, lambda y: y.tolist())
    print(f"python_op_overhead_ns {ns:.4g} ns", flush=True)


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "build", "release")
    sys.path.insert(0, os.path.abspath(os.path.join(build, "python")))
    lazuli_figures()


if __name__ == "__main__":
    main()
