/* The few MPI calls the distributed module makes, found at run time in Open MPI's libmpi
 * (dlopen), so liblazuli builds and runs without MPI. Open MPI's handles (communicators,
 * datatypes, ops) are pointers to global objects of the library, resolved with dlsym; every
 * MPI type here is an opaque pointer. Only mpi.c knows these details. */
#ifndef LZ_DIST_MPI_H
#define LZ_DIST_MPI_H

#include "core/internal.h"

typedef void *lz_mpi_handle; /* MPI_Comm, MPI_Datatype, MPI_Op (Open MPI: pointers) */

/* Reductions the collectives use. */
typedef enum lz_mpi_reduce { LZ_MPI_SUM, LZ_MPI_MAX, LZ_MPI_MIN, LZ_MPI_REDUCE_COUNT } lz_mpi_reduce;

/* Loads libmpi once; true when it is there and is Open MPI. *why (if given) says what was
 * missing otherwise. Thread-safe. */
LZ_HIDDEN bool lz_mpi_load(const char **why);
/* Whether a launcher (mpirun) started this process. */
LZ_HIDDEN bool lz_mpi_launched(void);
/* Initialises MPI once (errors return, finalised at exit); 0 or -1 with an error for `op`. */
LZ_HIDDEN int lz_mpi_init(const char *op);
LZ_HIDDEN lz_mpi_handle lz_mpi_world(void);
/* rank and size of `comm`. */
LZ_HIDDEN int lz_mpi_rank_size(lz_mpi_handle comm, int *rank, int *size);
/* A new communicator (MPI_Comm_split), or NULL with an error. */
LZ_HIDDEN lz_mpi_handle lz_mpi_split(lz_mpi_handle comm, int color, int key, const char *op);
LZ_HIDDEN void lz_mpi_comm_free(lz_mpi_handle comm);
/* Whether `dt` can be reduced with `r` (complex has no max/min). */
LZ_HIDDEN bool lz_mpi_can_reduce(lz_dtype dt, lz_mpi_reduce r);
/* The collectives, each on n contiguous elements of dtype dt; 0 or -1 with an error for op.
 * all_reduce may run in place (in == out). */
LZ_HIDDEN int lz_mpi_all_reduce(const void *in, void *out, int64_t n, lz_dtype dt,
                                lz_mpi_reduce r, lz_mpi_handle comm, const char *op);
/* out gets `size` blocks of n elements, block i from rank i. */
LZ_HIDDEN int lz_mpi_all_gather(const void *in, void *out, int64_t n, lz_dtype dt,
                                lz_mpi_handle comm, const char *op);
/* out (n elements) is block `rank` of the sum of every rank's in (size * n elements); in == out
 * runs in place (out holds the whole input first). */
LZ_HIDDEN int lz_mpi_sum_scatter(const void *in, void *out, int64_t n, lz_dtype dt,
                                 lz_mpi_handle comm, const char *op);
LZ_HIDDEN int lz_mpi_send(const void *buf, int64_t n, lz_dtype dt, int dst, lz_mpi_handle comm,
                          const char *op);
LZ_HIDDEN int lz_mpi_recv(void *buf, int64_t n, lz_dtype dt, int src, lz_mpi_handle comm,
                          const char *op);

/* The agreement check run before a collective: sig (k <= LZ_MPI_SIG_MAX integers) is compared
 * over the ranks of comm with one small all-reduce; lo and hi get each entry's minimum and
 * maximum. 0 when every rank passed the same sig, 1 when they differ, -1 with an error. */
enum { LZ_MPI_SIG_MAX = 8 };
LZ_HIDDEN int lz_mpi_agree(const int64_t *sig, int k, int64_t *lo, int64_t *hi,
                           lz_mpi_handle comm, const char *op);

#endif /* LZ_DIST_MPI_H */
