/* Kernels of the matmul family (cpu/matmul.c, cpu/contract.c) and their parameter structs. */
#ifndef LZ_CPU_MATMUL_H
#define LZ_CPU_MATMUL_H

#include "cpu.h"

/* addmm: out = alpha * (a @ b) + beta * c. */
typedef struct lz_addmm_params {
  double alpha, beta;
} lz_addmm_params;

/* A contraction of one or two operands by axis labels (einsum's pairwise step, tensordot,
 * outer). Each axis of input k carries a label (0..63); an input axis repeated with the same
 * label takes the diagonal. The output's labels `lo` are distinct; the node's output array may
 * have any shape of the same size (the data is row-major in `lo` order). A label kept in the
 * output is a batch label when both inputs have it; every label not kept is summed. */
typedef struct lz_contract_params {
  int8_t la[LZ_MAX_NDIM], lb[LZ_MAX_NDIM], lo[LZ_MAX_NDIM];
  int8_t nout;
} lz_contract_params;

/* matmul (inputs a, b) and addmm (inputs a, b, c; lz_addmm_params). An input of ndim 1 is a
 * vector: (K) as a is (1,K), as b is (K,1). Batch dims broadcast. */
LZ_HIDDEN int lz_cpu_matmul(lz_node *node, lz_array **outs);
LZ_HIDDEN int lz_cpu_contract(lz_node *node, lz_array **outs);

#endif /* LZ_CPU_MATMUL_H */
