/* Binary elementwise kernels: typed loop tables per op, and the kernel that runs them. */
#ifndef LZ_CPU_BINARY_H
#define LZ_CPU_BINARY_H

#include "cpu.h"

LZ_HIDDEN int lz_cpu_binary(lz_node *node, lz_array **outs);

#define LZ_BINARY_TABLE(OP) LZ_HIDDEN extern const lz_cpu_inner_fn lz_cpu_##OP##_loops[LZ_DTYPE_COUNT];
LZ_BINARY_TABLE(add)
LZ_BINARY_TABLE(subtract)
LZ_BINARY_TABLE(multiply)
LZ_BINARY_TABLE(divide)
LZ_BINARY_TABLE(maximum)
LZ_BINARY_TABLE(minimum)
LZ_BINARY_TABLE(equal)
LZ_BINARY_TABLE(not_equal)
LZ_BINARY_TABLE(less)
LZ_BINARY_TABLE(less_equal)
LZ_BINARY_TABLE(greater)
LZ_BINARY_TABLE(greater_equal)

#endif /* LZ_CPU_BINARY_H */
