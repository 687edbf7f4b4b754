/* Unary elementwise kernels. */
#ifndef LZ_CPU_UNARY_H
#define LZ_CPU_UNARY_H

#include "cpu.h"

LZ_HIDDEN int lz_cpu_astype(lz_node *node, lz_array **outs);

#endif /* LZ_CPU_UNARY_H */
