#!/usr/bin/env python3
"""Writes tests/data/shape_refs.h: NumPy's results for the shape and patterned-creation tests
(tests/test_shape*.c). Run from the repository root: python3 scripts/gen_shape_refs.py

Each case is an array computed by NumPy from small arange inputs that the C tests build the
same way; the header holds its shape and its values in row-major order as doubles."""
import numpy as np
from numpy.lib.stride_tricks import as_strided

x24 = np.arange(24.0).reshape(2, 3, 4)
x12 = np.arange(12.0).reshape(3, 4)
x6 = np.arange(6.0).reshape(2, 3)
v4 = np.arange(4.0)
y8 = np.arange(8.0).reshape(2, 1, 4) + 100  # C: arange(100, 108) reshaped
big = 2**31 - 1  # INT_MAX in C


def split_cases():
    out = {}
    for i, part in enumerate(np.split(x12, [1, 3], axis=1)):
        out[f"split_idx_{i}"] = part
    for i, part in enumerate(np.split(x12, [3, 1], axis=1)):
        out[f"split_dec_{i}"] = part
    for i, part in enumerate(np.split(x24, 2, axis=-1)):
        out[f"split_sec_{i}"] = part
    for i in range(3):
        out[f"unstack_{i}"] = x24[:, i, :]
    return out


def meshgrid_cases():
    out = {}
    a, b, c = np.arange(3.0), np.arange(2.0) + 10, np.arange(4.0) + 20
    for name, idx in (("xy", "xy"), ("ij", "ij")):
        for i, g in enumerate(np.meshgrid(a, b, c, indexing=idx)):
            out[f"meshgrid_{name}_{i}"] = g
    return out


CASES = {
    # views
    "reshape_4x6": x24.reshape(4, 6),
    "reshape_infer": x24.reshape(-1, 8),
    "transpose_rev": x24.transpose(),
    "transpose_102": x24.transpose(1, 0, 2),
    "reshape_of_transpose": x24.transpose(2, 0, 1).reshape(4, 6),
    "reshape_split_transposed": x24.transpose(1, 0, 2).reshape(3, 2, 2, 2),
    "swapaxes_02": np.swapaxes(x24, 0, 2),
    "moveaxis_0_2": np.moveaxis(x24, 0, 2),
    "moveaxis_m1_0": np.moveaxis(x24, -1, 0),
    "slice_basic": x24[:, 1:3, ::2],
    "slice_neg": x24[::-1, -1:0:-1, 3:0:-2],
    "slice_clamp": x24[-10:10, 5:10, -100:2],
    "slice_rev_full": x12[big::-1, -(big + 1)::-1],
    "flip_1": np.flip(x24, 1),
    "flip_all": np.flip(x24),
    "diagonal_0": np.diagonal(x12),
    "diagonal_p1": np.diagonal(x12, 1),
    "diagonal_m1": np.diagonal(x12, -1),
    "diagonal_3d": np.diagonal(x24, 1, 2, 0),
    "broadcast_row": np.broadcast_to(v4, (3, 4)),
    "broadcast_col": np.broadcast_to(np.arange(3.0).reshape(3, 1), (2, 3, 4)),
    "chain_t_slice_bcast": np.broadcast_to(v4, (3, 4))[1:, ::-1].T,
    "as_strided_windows": as_strided(np.arange(10.0), (4, 3), (16, 8)),
    # strides address the row-major order of x12.T (shape (4,3)), offset 1 element
    "as_strided_of_transpose": as_strided(np.ascontiguousarray(x12.T).ravel()[1:], (2, 2), (8, 24)),
    "flatten_12": x24.reshape(2, 12),
    "add_views": x12.T[::-1] + x12[:, ::-1].T,
    # copies
    "concat_1": np.concatenate([x24, y8], 1),
    "concat_t": np.concatenate([x12.T, np.arange(8.0).reshape(4, 2)], -1),
    "stack_1": np.stack([x12, x12 + 100], 1),
    "stack_last": np.stack([x6, x6 + 100, x6 + 200], -1),
    "tile_3d": np.tile(x6, (2, 1, 2)),
    "tile_short": np.tile(x24, (2,)),
    "repeat_ax1": np.repeat(x6, 2, axis=1),
    "repeat_ax0": np.repeat(x6, 3, axis=0),
    "repeat_flat": np.repeat(x6, 2),
    "pad_const": np.pad(x6, ((1, 2), (0, 3)), constant_values=-1),
    "pad_edge": np.pad(x6, ((2, 1), (1, 2)), mode="edge"),
    "pad_edge_3d": np.pad(x24[:, ::-1], ((0, 1), (1, 0), (2, 1)), mode="edge"),
    "pad_axis1": np.pad(x6, ((0, 0), (2, 1)), constant_values=7),
    "roll_ax1": np.roll(x12, 1, axis=1),
    "roll_flat": np.roll(x12, -5),
    "roll_two": np.roll(x12, (1, 6), (0, 1)),
    "roll_neg_big": np.roll(x12, -7, axis=0),
    "diag_build_p1": np.diag(np.arange(3.0), 1),
    "diag_build_m2": np.diag(np.arange(3.0), -2),
    "diag_build_m2_flipped_input": np.diag(np.arange(3.0)[::-1], -2),
    "diag_take_p1": np.diag(x12, 1),
    "kron_2d": np.kron(np.arange(4.0).reshape(2, 2), x6),
    "kron_1d_2d": np.kron(np.arange(3.0), x6),
    # creation
    "linspace_5": np.linspace(0, 1, 5, dtype=np.float32),
    "linspace_11": np.linspace(-3, 7, 11, dtype=np.float32),
    "linspace_f64": np.linspace(0.1, 2.7, 7),
    "linspace_flat": np.linspace(2, 2, 4),
    "linspace_1": np.linspace(3, 9, 1),
    # arange: NumPy steps by T(start + step) - T(start) in the dtype T (as MLX for integers)
    "arange_i32_frac": np.arange(0, 3, 0.2, dtype=np.int32),
    "arange_i32_neg_start": np.arange(-1.5, 2, 1, dtype=np.int32),
    "arange_i8_frac": np.arange(0.5, 10, 1.5, dtype=np.int8),
    "arange_i64_down": np.arange(5, -3, -0.7, dtype=np.int64),
    "arange_u8_frac": np.arange(1, 7, 2.5, dtype=np.uint8),
    "arange_u8_wrap": np.arange(250, 260, 3, dtype=np.uint8),
    "arange_f32": np.arange(0.1, 1.0, 0.1, dtype=np.float32),
    "arange_f64": np.arange(-1, 1, 0.3),
    "arange_f16": np.arange(0, 2, 0.3, dtype=np.float16),
    "arange_inf_up": np.arange(0, 5, np.inf),
    "arange_inf_down": np.arange(5, 0, -np.inf),
    "arange_inf_away": np.arange(0, 5, -np.inf),
    "arange_inf_same": np.arange(3, 3, np.inf, dtype=np.int32),
    "eye_3x4_k1": np.eye(3, 4, 1),
    "eye_4x3_km1": np.eye(4, 3, -1),
    "tri_3x4_k1": np.tri(3, 4, 1),
    "tri_4x3_km1": np.tri(4, 3, -1),
    "tril_m1": np.tril(x24, -1),
    "triu_p1": np.triu(x24, 1),
    "triu_t": np.triu(x12.T, 0),
    "hanning_7": np.hanning(7),
    "hamming_8": np.hamming(8),
    "blackman_9": np.blackman(9),
    "bartlett_6": np.bartlett(6),
    "bartlett_7": np.bartlett(7),
}
CASES.update(split_cases())
CASES.update(meshgrid_cases())


def fmt(v):
    v = float(v)
    return repr(v) if v != int(v) or abs(v) > 1e15 else f"{int(v)}.0"


def main():
    lines = [
        "/* Generated by scripts/gen_shape_refs.py from NumPy " + np.__version__
        + "; do not edit. */",
        "#ifndef LZ_SHAPE_REFS_H",
        "#define LZ_SHAPE_REFS_H",
        "",
        "/* ref_<case>: values in row-major order; ref_<case>_shape / _ndim / _size. */",
    ]
    for name, arr in CASES.items():
        arr = np.asarray(arr, dtype=np.float64)
        shape = ", ".join(str(d) for d in arr.shape) or "0"
        vals = ", ".join(fmt(v) for v in arr.ravel()) or "0"
        lines.append(f"static const int ref_{name}_shape[] = {{{shape}}};")
        lines.append(f"enum {{ ref_{name}_ndim = {arr.ndim}, ref_{name}_size = {arr.size} }};")
        lines.append(f"static const double ref_{name}[] = {{{vals}}};")
    lines += ["", "#endif /* LZ_SHAPE_REFS_H */", ""]
    with open("tests/data/shape_refs.h", "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
