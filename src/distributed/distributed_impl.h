/* Private declarations of the distributed module: groups (group.c) and the collectives'
 * parameters (ops.c), shared with their transform rules. */
#ifndef LZ_DISTRIBUTED_IMPL_H
#define LZ_DISTRIBUTED_IMPL_H

#include "distributed/mpi.h"

struct lz_group {
  atomic_long refs;
  lz_mpi_handle comm; /* NULL for the size-1 group of a process without MPI */
  int rank, size;
};

/* Every collective's parameters: its group (a reference, released with the node) and the
 * peer of send/recv. */
typedef struct lz_dist_params {
  lz_group *group;
  int peer;
} lz_dist_params;

/* `g`, or the world group when NULL (a new reference either way); NULL with an error. */
LZ_HIDDEN lz_group *lz_dist_group(lz_group *g, const char *op);
LZ_HIDDEN lz_group *lz_group_retain(lz_group *g);

#endif /* LZ_DISTRIBUTED_IMPL_H */
