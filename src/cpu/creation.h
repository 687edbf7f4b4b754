/* Kernels of the patterned creation ops (cpu/creation.c) and their parameters. */
#ifndef LZ_CPU_CREATION_H
#define LZ_CPU_CREATION_H

#include "shape.h"

typedef struct lz_linspace_params {
  double start, stop;
} lz_linspace_params;

/* A window's value at sample i of m (0 <= i < m, m >= 2). */
typedef double (*lz_window_fn)(int64_t i, int64_t m);

LZ_HIDDEN int lz_cpu_linspace(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_eye(lz_node *node, lz_array **outs);  /* lz_k_params */
LZ_HIDDEN int lz_cpu_tri(lz_node *node, lz_array **outs);  /* lz_k_params */
LZ_HIDDEN int lz_cpu_tril(lz_node *node, lz_array **outs); /* lz_k_params */
LZ_HIDDEN int lz_cpu_triu(lz_node *node, lz_array **outs); /* lz_k_params */
/* Window ops: the op's impl points to its lz_window_fn. */
LZ_HIDDEN int lz_cpu_window(lz_node *node, lz_array **outs);
LZ_HIDDEN double lz_cpu_bartlett(int64_t i, int64_t m);
LZ_HIDDEN double lz_cpu_blackman(int64_t i, int64_t m);
LZ_HIDDEN double lz_cpu_hamming(int64_t i, int64_t m);
LZ_HIDDEN double lz_cpu_hanning(int64_t i, int64_t m);

#endif /* LZ_CPU_CREATION_H */
