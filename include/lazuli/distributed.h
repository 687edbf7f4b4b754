/* Distributed communication (MLX's mlx.core.distributed) over MPI: groups of processes and
 * collectives that are ordinary lazy ops, computed when their result is evaluated.
 *
 * MPI (Open MPI's libmpi.so.40) is loaded at run time, so a program built with Lazuli runs
 * on a machine without it; lz_distributed_is_available says whether it is there. Programs are
 * launched with `mpirun -np N prog`; started without a launcher, lz_distributed_init returns
 * a group of size 1 (rank 0) and every collective on it returns its input, so the same program
 * runs unchanged on one process.
 *
 * Every collective must be evaluated by every rank of its group, in the same order (that is
 * MPI's rule); a send must meet a matching recv. Shapes must agree across ranks: before the
 * data moves, the ranks compare the op, dtype and shape with one small all-reduce (a few
 * microseconds), and a difference is an error on every rank ("[lz_all_sum] shapes differ
 * across ranks: rank 0 has (10,) float32 ..."), after which the group still works. The
 * environment variable LZ_DISTRIBUTED_CHECK=0 skips that check. A recv that expects more
 * elements than were sent is an error ("[lz_recv] rank 0 sent 5 elements ..."), one that
 * expects fewer is MPI's truncation error; the dtypes of a send and its recv are not compared.
 *
 * A process that exits with a nonzero status (or is killed) while MPI is initialised ends the
 * whole job (MPI_Abort), so its peers never wait for it. One that exits with status 0 while
 * its peers wait in a collective leaves them waiting: put a timeout on the launcher.
 *
 * Groups are reference counted: the functions that return one return a new reference,
 * released with lz_group_free; a pending op keeps its group alive. A NULL group means the
 * world group (lz_distributed_init("any", false)).
 *
 * Only Open MPI is supported (MPICH's libmpi.so.12 has another ABI and is not loaded). */
#ifndef LAZULI_DISTRIBUTED_H
#define LAZULI_DISTRIBUTED_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A group of processes (an MPI communicator). */
typedef struct lz_group lz_group;

/* Whether a distributed backend (MPI) can be used in this process. */
LZ_API bool lz_distributed_is_available(void);

/* The world group: every process of the job. `backend` is "mpi" or "any" (NULL: "any").
 * Without MPI, or without a launcher, it returns a group of size 1 unless `strict`, which makes
 * either an error ("[lz_distributed_init] MPI is not available: ..."). Calls after the first
 * return the same group. A new reference. */
LZ_API lz_group *lz_distributed_init(const char *backend, bool strict);
/* This process's rank in `g` (0 .. size-1), and the number of processes; -1 for NULL. */
LZ_API int lz_group_rank(const lz_group *g);
LZ_API int lz_group_size(const lz_group *g);
/* Splits `g` into the groups of ranks that pass the same `color`, ordered by `key` (-1: by
 * rank in g), as MLX's Group.split (MPI_Comm_split). Every rank of g must call it. A new
 * reference, or NULL with an error. */
LZ_API lz_group *lz_group_split(lz_group *g, int color, int key);
/* Releases a reference; NULL is a no-op. */
LZ_API void lz_group_free(lz_group *g);

/* The elementwise sum, maximum or minimum of `x` over the ranks of `group`; every rank gets
 * the result. float16/bfloat16 are reduced in float32; bool sums are a logical or. complex64
 * has a sum but no max/min. all_sum's vjp passes the cotangent through and its jvp is the
 * all_sum of the tangent, as MLX's. */
LZ_API lz_array *lz_all_sum(lz_array *x, lz_group *group);
LZ_API lz_array *lz_all_max(lz_array *x, lz_group *group);
LZ_API lz_array *lz_all_min(lz_array *x, lz_group *group);
/* Every rank's `x` concatenated along axis 0, in rank order (a 0-d x gives shape (size,)).
 * Its vjp is this rank's slice of the cotangent. Under lz_vmap each example is gathered along
 * its own axis 0 (the batch axis moves to 1); all_sum, all_max, all_min and send keep the batch
 * axis, and all run once on the whole batch. */
LZ_API lz_array *lz_all_gather(lz_array *x, lz_group *group);
/* The sum over ranks of `x`, scattered: rank r gets block r of axis 0 (x.shape[0] must be a
 * multiple of the group size). */
LZ_API lz_array *lz_sum_scatter(lz_array *x, lz_group *group);
/* Sends `x` to rank `dst` when the result (x itself) is evaluated. A group of size 1 is an
 * error. */
LZ_API lz_array *lz_send(lz_array *x, int dst, lz_group *group);
/* An array of (shape, dtype) received from rank `src` when evaluated. */
LZ_API lz_array *lz_recv(const int *shape, int ndim, lz_dtype dtype, int src, lz_group *group);
/* lz_recv with x's shape and dtype. */
LZ_API lz_array *lz_recv_like(lz_array *x, int src, lz_group *group);

#ifdef __cplusplus
}
#endif

#endif /* LAZULI_DISTRIBUTED_H */
