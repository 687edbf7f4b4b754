#!/usr/bin/env python3
"""Generates tests/data/fp8/ for tests/test_fp8.c with NumPy, from the OCP 8-bit float spec.

Run once at development time: /usr/bin/python3 scripts/gen_fp8_refs.py
This is an independent reference: decoding evaluates the spec's formula for every byte, and
encoding searches all 256 codes for the nearest value (ties to the even code), so it shares no
algorithm with Lazuli's bit manipulation.
  e4m3_decode.npy  float32 (256,): the value of each E4M3 byte (NaN for 0x7F and 0xFF)
  e4m3_in.npy      float32 (N,):   inputs to encode (|x| < 464, subnormals and ties included)
  e4m3_out.npy     uint8 (N,):     their E4M3 bytes"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "fp8")
os.makedirs(out, exist_ok=True)

def decode(b):
    s, e, m = b >> 7, (b >> 3) & 15, b & 7
    if e == 15 and m == 7:
        return float("nan")
    v = (m / 8) * 2.0 ** -6 if e == 0 else (1 + m / 8) * 2.0 ** (e - 7)
    return -v if s else v

table = np.array([decode(b) for b in range(256)], dtype=np.float32)
np.save(os.path.join(out, "e4m3_decode.npy"), table)

def encode(x):
    mag = abs(float(x))
    best, best_d = None, None
    for code in range(0x7F):  # finite non-negative codes
        d = abs(float(table[code]) - mag)
        if best is None or d < best_d or (d == best_d and code % 2 == 0 and best % 2 == 1):
            best, best_d = code, d
    return best | (0x80 if np.signbit(np.float32(x)) else 0)

rng = np.random.default_rng(7)
xs = [0.0, -0.0, 1.0, -1.0, 448.0, -448.0, 2.0 ** -9, 2.0 ** -10, 3 * 2.0 ** -10, 2.0 ** -6]
xs += [float(table[c]) for c in range(0x7E)]                      # every finite value
xs += [(float(table[c]) + float(table[c + 1])) / 2 for c in range(0x7D)]  # every tie
xs += list(rng.normal(0, 4, 300)) + list(rng.uniform(-460, 460, 200))
xs += list(rng.normal(0, 0.01, 100))  # subnormal range
xin = np.array(xs, dtype=np.float32)
xout = np.array([encode(x) for x in xin], dtype=np.uint8)
np.save(os.path.join(out, "e4m3_in.npy"), xin)
np.save(os.path.join(out, "e4m3_out.npy"), xout)
