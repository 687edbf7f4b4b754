/* Binary (and ternary) elementwise kernels: typed loop tables per op, the kernels that run
 * them, and the parameter structs shared with the op constructors. */
#ifndef LZ_CPU_BINARY_H
#define LZ_CPU_BINARY_H

#include "cpu.h"

/* Allocates the node's `nout` outputs and runs fn over them and the node's inputs (broadcast
 * to outs[0]'s shape), operands in the order outputs then inputs; ctx is node->params. */
LZ_HIDDEN int lz_cpu_run_elementwise(lz_node *node, lz_array **outs, int nout,
                                     lz_cpu_inner_fn fn);
/* The kernel of every table-driven binary op (divmod too: two outputs): impl is a table of
 * inner loops indexed by the inputs' dtype. */
LZ_HIDDEN int lz_cpu_binary(lz_node *node, lz_array **outs);
/* all_true: a 0-d bool that says whether every element of the bool input is true. */
LZ_HIDDEN int lz_cpu_all_true(lz_node *node, lz_array **outs);
/* where: out = cond ? x : y, inputs (cond bool, x, y) of any dtype size. */
LZ_HIDDEN int lz_cpu_where(lz_node *node, lz_array **outs);

typedef struct lz_isclose_params {
  double rtol, atol;
  bool equal_nan;
} lz_isclose_params;

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
LZ_BINARY_TABLE(floor_divide)
LZ_BINARY_TABLE(remainder)
LZ_BINARY_TABLE(divmod) /* four operands: quotient, remainder, a, b */
LZ_BINARY_TABLE(power)
LZ_BINARY_TABLE(arctan2)
LZ_BINARY_TABLE(logaddexp)
LZ_BINARY_TABLE(logical_and)
LZ_BINARY_TABLE(logical_or)
LZ_BINARY_TABLE(logical_xor)
LZ_BINARY_TABLE(bitwise_and)
LZ_BINARY_TABLE(bitwise_or)
LZ_BINARY_TABLE(bitwise_xor)
LZ_BINARY_TABLE(left_shift)
LZ_BINARY_TABLE(right_shift)
LZ_BINARY_TABLE(isclose)

#endif /* LZ_CPU_BINARY_H */
