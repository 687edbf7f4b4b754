/* Groups: the world group (MPI_COMM_WORLD, or a size-1 group without MPI or a launcher) and
 * the groups split from it. */
#include "distributed/distributed_impl.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t world_mu = PTHREAD_MUTEX_INITIALIZER;
static lz_group *world; /* one reference held here for the life of the process */
static const char *world_why; /* why the world group has no MPI */

bool lz_distributed_is_available(void) { return lz_mpi_load(NULL); }

static lz_group *group_new(lz_mpi_handle comm, int rank, int size, const char *op) {
  lz_group *g = lz__malloc(sizeof *g);
  if (!g) {
    lz__error(LZ_ERROR_OUT_OF_MEMORY, op, "out of memory");
    return NULL;
  }
  atomic_init(&g->refs, 1);
  g->comm = comm, g->rank = rank, g->size = size;
  return g;
}

lz_group *lz_group_retain(lz_group *g) {
  if (g) atomic_fetch_add(&g->refs, 1);
  return g;
}

lz_group *lz_distributed_init(const char *backend, bool strict) {
  const char *op = "lz_distributed_init";
  if (backend && strcmp(backend, "any") != 0 && strcmp(backend, "mpi") != 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "unknown backend '%s' (use \"mpi\" or \"any\")",
              backend);
    return NULL;
  }
  pthread_mutex_lock(&world_mu);
  lz_group *g = world;
  if (g && !g->comm && strict) {
    lz__error(LZ_ERROR_NOT_IMPLEMENTED, op, "MPI is not available: %s", world_why);
    g = NULL;
  } else if (!g) {
    const char *why = NULL;
    bool mpi = lz_mpi_load(&why);
    if (mpi && !lz_mpi_launched()) {
      mpi = false;
      why = "this process was not started by a launcher (mpirun)";
    }
    if (!mpi && strict) {
      lz__error(LZ_ERROR_NOT_IMPLEMENTED, op, "MPI is not available: %s", why);
    } else if (!mpi) {
      g = group_new(NULL, 0, 1, op);
      world_why = why;
    } else if (lz_mpi_init(op) == 0) {
      int rank = 0, size = 1;
      if (lz_mpi_rank_size(lz_mpi_world(), &rank, &size) == 0)
        g = group_new(lz_mpi_world(), rank, size, op);
      else
        lz__error(LZ_ERROR_IO, op, "MPI_Comm_rank/size failed");
    }
    world = g;
  }
  lz_group_retain(g);
  pthread_mutex_unlock(&world_mu);
  return g;
}

lz_group *lz_dist_group(lz_group *g, const char *op) {
  if (g) return lz_group_retain(g);
  g = lz_distributed_init("any", false);
  if (!g && !lz__has_error()) lz__error(LZ_ERROR_INTERNAL, op, "no world group");
  return g;
}

int lz_group_rank(const lz_group *g) { return g ? g->rank : -1; }
int lz_group_size(const lz_group *g) { return g ? g->size : -1; }

lz_group *lz_group_split(lz_group *g, int color, int key) {
  const char *op = "lz_group_split";
  if (!g) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "group is NULL");
    return NULL;
  }
  if (color < 0) {
    lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "color must be non-negative, got %d", color);
    return NULL;
  }
  if (!g->comm) return group_new(NULL, 0, 1, op); /* a size-1 group splits into itself */
  lz_mpi_handle c = lz_mpi_split(g->comm, color, key < 0 ? g->rank : key, op);
  if (!c) return NULL;
  int rank = 0, size = 1;
  if (lz_mpi_rank_size(c, &rank, &size) != 0) {
    lz_mpi_comm_free(c);
    lz__error(LZ_ERROR_IO, op, "MPI_Comm_rank/size failed");
    return NULL;
  }
  lz_group *s = group_new(c, rank, size, op);
  if (!s) lz_mpi_comm_free(c);
  return s;
}

void lz_group_free(lz_group *g) {
  if (!g || atomic_fetch_sub(&g->refs, 1) != 1) return;
  if (g->comm && g->comm != lz_mpi_world()) lz_mpi_comm_free(g->comm);
  free(g);
}
