/* Open MPI, loaded at run time: dlopen of libmpi, dlsym of the functions and of the global
 * objects that are Open MPI's predefined handles (MPI_COMM_WORLD is &ompi_mpi_comm_world).
 * Every call is made under one mutex (MPI_THREAD_SERIALIZED), so kernels may run on the
 * async-eval thread. float16 and bfloat16 reductions use user ops that compute in float32. */
#include "distributed/mpi.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>

#define MPI_IN_PLACE_ ((void *)1)
#define MPI_THREAD_SERIALIZED_ 2

typedef void user_fn(void *in, void *inout, int *len, lz_mpi_handle *dt);

static struct {
  void *lib;
  const char *why;
  int (*Initialized)(int *);
  int (*Finalized)(int *);
  int (*Init_thread)(int *, char ***, int, int *);
  int (*Finalize)(void);
  int (*Comm_rank)(lz_mpi_handle, int *);
  int (*Comm_size)(lz_mpi_handle, int *);
  int (*Comm_split)(lz_mpi_handle, int, int, lz_mpi_handle *);
  int (*Comm_free)(lz_mpi_handle *);
  int (*Comm_set_errhandler)(lz_mpi_handle, lz_mpi_handle);
  int (*Allreduce)(const void *, void *, int, lz_mpi_handle, lz_mpi_handle, lz_mpi_handle);
  int (*Allgather)(const void *, int, lz_mpi_handle, void *, int, lz_mpi_handle, lz_mpi_handle);
  int (*Reduce_scatter_block)(const void *, void *, int, lz_mpi_handle, lz_mpi_handle,
                              lz_mpi_handle);
  int (*Send)(const void *, int, lz_mpi_handle, int, int, lz_mpi_handle);
  int (*Recv)(void *, int, lz_mpi_handle, int, int, lz_mpi_handle, void *);
  int (*Get_count)(const void *, lz_mpi_handle, int *);
  int (*Abort)(lz_mpi_handle, int);
  int (*Op_create)(user_fn *, int, lz_mpi_handle *);
  int (*Error_string)(int, char *, int *);
  lz_mpi_handle world, errors_return;
  lz_mpi_handle dtype[LZ_DTYPE_COUNT];
  lz_mpi_handle op[LZ_MPI_REDUCE_COUNT], lor, land;
  lz_mpi_handle half_op[2][LZ_MPI_REDUCE_COUNT]; /* [float16, bfloat16][reduce] */
} M;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static bool inited; /* by us, under mu */

static void *sym(const char *name) {
  void *p = M.lib ? dlsym(M.lib, name) : NULL;
  if (!p && !M.why) M.why = "libmpi lacks an Open MPI symbol";
  return p;
}

static void load(void) {
  static const char *names[] = {"libmpi.so.40", "libmpi.so"};
  for (size_t i = 0; i < 2 && !M.lib; i++) M.lib = dlopen(names[i], RTLD_NOW | RTLD_GLOBAL);
  if (!M.lib) {
    M.why = "Open MPI's libmpi.so.40 was not found (install openmpi-bin and libopenmpi-dev)";
    return;
  }
#define F(name) *(void **)&M.name = sym("MPI_" #name)
  F(Initialized), F(Finalized), F(Init_thread), F(Finalize), F(Comm_rank), F(Comm_size);
  F(Comm_split), F(Comm_free), F(Comm_set_errhandler), F(Allreduce), F(Allgather);
  F(Reduce_scatter_block), F(Send), F(Recv), F(Get_count), F(Abort), F(Op_create);
  F(Error_string);
#undef F
  M.world = sym("ompi_mpi_comm_world");
  M.errors_return = sym("ompi_mpi_errors_return");
  static const char *dt[LZ_DTYPE_COUNT] = {
      [LZ_BOOL] = "ompi_mpi_uint8_t",    [LZ_UINT8] = "ompi_mpi_uint8_t",
      [LZ_UINT16] = "ompi_mpi_uint16_t", [LZ_UINT32] = "ompi_mpi_uint32_t",
      [LZ_UINT64] = "ompi_mpi_uint64_t", [LZ_INT8] = "ompi_mpi_int8_t",
      [LZ_INT16] = "ompi_mpi_int16_t",   [LZ_INT32] = "ompi_mpi_int32_t",
      [LZ_INT64] = "ompi_mpi_int64_t",   [LZ_FLOAT16] = "ompi_mpi_uint16_t",
      [LZ_BFLOAT16] = "ompi_mpi_uint16_t", [LZ_FLOAT32] = "ompi_mpi_float",
      [LZ_FLOAT64] = "ompi_mpi_double",  [LZ_COMPLEX64] = "ompi_mpi_c_float_complex",
  };
  for (int d = 0; d < LZ_DTYPE_COUNT; d++) M.dtype[d] = sym(dt[d]);
  M.op[LZ_MPI_SUM] = sym("ompi_mpi_op_sum");
  M.op[LZ_MPI_MAX] = sym("ompi_mpi_op_max");
  M.op[LZ_MPI_MIN] = sym("ompi_mpi_op_min");
  M.lor = sym("ompi_mpi_op_lor");
  M.land = sym("ompi_mpi_op_land");
  if (M.why) dlclose(M.lib), M.lib = NULL;
}

bool lz_mpi_load(const char **why) {
  pthread_once(&load_once, load);
  if (why) *why = M.why;
  return M.lib != NULL;
}

bool lz_mpi_launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static int fail(const char *op, const char *what, int rc) {
  char msg[512] = "";
  int len = 0;
  if (M.Error_string) M.Error_string(rc, msg, &len);
  return lz__error(LZ_ERROR_IO, op, "%s failed: %s", what, msg[0] ? msg : "MPI error");
}

/* float16 / bfloat16 reductions in float32 (MPI has no such types). */
#define HALF_OP(NAME, TO, FROM, EXPR)                                                            \
  static void NAME(void *in, void *inout, int *len, lz_mpi_handle *dt) {                         \
    const uint16_t *a = in;                                                                      \
    uint16_t *b = inout;                                                                         \
    for (int i = 0; i < *len; i++) {                                                             \
      float x = TO(a[i]), y = TO(b[i]);                                                          \
      b[i] = FROM(EXPR);                                                                         \
    }                                                                                            \
  }
HALF_OP(f16_sum, lz__f16_to_f32, lz__f32_to_f16, x + y)
HALF_OP(f16_max, lz__f16_to_f32, lz__f32_to_f16, (x > y || x != x) ? x : y)
HALF_OP(f16_min, lz__f16_to_f32, lz__f32_to_f16, (x < y || x != x) ? x : y)
HALF_OP(bf16_sum, lz__bf16_to_f32, lz__f32_to_bf16, x + y)
HALF_OP(bf16_max, lz__bf16_to_f32, lz__f32_to_bf16, (x > y || x != x) ? x : y)
HALF_OP(bf16_min, lz__bf16_to_f32, lz__f32_to_bf16, (x < y || x != x) ? x : y)

/* At exit. MPI_Finalize waits for every rank (Open MPI's barrier), so a rank that fails and
 * exits while its peers wait in a collective would hang the whole job: a failing exit (status
 * not 0) aborts the job instead (MPI_Abort: mpirun ends every rank). A rank that exits with
 * status 0 while its peers still wait is a program error MPI cannot see; the launcher's
 * timeout ends that job. The mutex is not taken: a rank exiting from a collective's error path
 * on another thread must still abort. */
static void finalize(int status, void *arg) {
  (void)arg;
  int done = 1;
  if (!inited || M.Finalized(&done) != 0 || done) return;
  if (status != 0) M.Abort(M.world, status);
  else M.Finalize();
}
#ifndef __GLIBC__
static void finalize_ok(void) { finalize(0, NULL); }
#endif

int lz_mpi_init(const char *op) {
  const char *why;
  if (!lz_mpi_load(&why))
    return lz__error(LZ_ERROR_NOT_IMPLEMENTED, op, "MPI is not available: %s", why);
  pthread_mutex_lock(&mu);
  int rc = 0, flag = 0, provided = 0;
  if (!inited) {
    M.Initialized(&flag);
    if (!flag && (rc = M.Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED_, &provided)) != 0) {
      pthread_mutex_unlock(&mu);
      return lz__error(LZ_ERROR_IO, op, "MPI_Init_thread failed (error %d)", rc);
    }
    M.Comm_set_errhandler(M.world, M.errors_return);
    user_fn *fns[2][LZ_MPI_REDUCE_COUNT] = {{f16_sum, f16_max, f16_min},
                                            {bf16_sum, bf16_max, bf16_min}};
    for (int h = 0; h < 2 && rc == 0; h++)
      for (int r = 0; r < LZ_MPI_REDUCE_COUNT && rc == 0; r++)
        rc = M.Op_create(fns[h][r], 1, &M.half_op[h][r]);
    if (!flag) {
#ifdef __GLIBC__
      on_exit(finalize, NULL);
#else
      atexit(finalize_ok);
#endif
    }
    inited = true;
  }
  pthread_mutex_unlock(&mu);
  return rc ? fail(op, "MPI_Op_create", rc) : 0;
}

lz_mpi_handle lz_mpi_world(void) { return M.world; }

int lz_mpi_rank_size(lz_mpi_handle comm, int *rank, int *size) {
  pthread_mutex_lock(&mu);
  int rc = M.Comm_rank(comm, rank) | M.Comm_size(comm, size);
  pthread_mutex_unlock(&mu);
  return rc ? -1 : 0;
}

lz_mpi_handle lz_mpi_split(lz_mpi_handle comm, int color, int key, const char *op) {
  lz_mpi_handle out = NULL;
  pthread_mutex_lock(&mu);
  int rc = M.Comm_split(comm, color, key, &out);
  if (rc == 0) M.Comm_set_errhandler(out, M.errors_return);
  pthread_mutex_unlock(&mu);
  if (rc) fail(op, "MPI_Comm_split", rc);
  return rc ? NULL : out;
}

void lz_mpi_comm_free(lz_mpi_handle comm) {
  pthread_mutex_lock(&mu);
  int done = 1;
  if (comm && M.Finalized(&done) == 0 && !done) M.Comm_free(&comm);
  pthread_mutex_unlock(&mu);
}

bool lz_mpi_can_reduce(lz_dtype dt, lz_mpi_reduce r) { return dt != LZ_COMPLEX64 || r == LZ_MPI_SUM; }

static lz_mpi_handle reduce_op(lz_dtype dt, lz_mpi_reduce r) {
  if (dt == LZ_FLOAT16) return M.half_op[0][r];
  if (dt == LZ_BFLOAT16) return M.half_op[1][r];
  if (dt == LZ_BOOL) return r == LZ_MPI_MIN ? M.land : M.lor; /* sum of bools: any */
  return M.op[r];
}

/* Counts travel as int: larger transfers go in chunks of at most 2^30 elements. */
#define CHUNK ((int64_t)1 << 30)

int lz_mpi_all_reduce(const void *in, void *out, int64_t n, lz_dtype dt, lz_mpi_reduce r,
                      lz_mpi_handle comm, const char *op) {
  size_t es = lz_dtype_size(dt);
  int rc = 0;
  pthread_mutex_lock(&mu);
  for (int64_t i = 0; i < n && rc == 0; i += CHUNK) {
    int c = (int)(n - i < CHUNK ? n - i : CHUNK);
    const void *src = in == out ? MPI_IN_PLACE_ : (const char *)in + i * es;
    rc = M.Allreduce(src, (char *)out + i * es, c, M.dtype[dt], reduce_op(dt, r), comm);
  }
  pthread_mutex_unlock(&mu);
  return rc ? fail(op, "MPI_Allreduce", rc) : 0;
}

int lz_mpi_all_gather(const void *in, void *out, int64_t n, lz_dtype dt, lz_mpi_handle comm,
                      const char *op) {
  if (n > INT_MAX)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%lld elements per rank is too many for MPI",
                     (long long)n);
  pthread_mutex_lock(&mu);
  int rc = M.Allgather(in, (int)n, M.dtype[dt], out, (int)n, M.dtype[dt], comm);
  pthread_mutex_unlock(&mu);
  return rc ? fail(op, "MPI_Allgather", rc) : 0;
}

int lz_mpi_sum_scatter(const void *in, void *out, int64_t n, lz_dtype dt, lz_mpi_handle comm,
                       const char *op) {
  if (n > INT_MAX)
    return lz__error(LZ_ERROR_INVALID_ARGUMENT, op, "%lld elements per rank is too many for MPI",
                     (long long)n);
  pthread_mutex_lock(&mu);
  const void *src = in == out ? MPI_IN_PLACE_ : in;
  int rc = M.Reduce_scatter_block(src, out, (int)n, M.dtype[dt], reduce_op(dt, LZ_MPI_SUM), comm);
  pthread_mutex_unlock(&mu);
  return rc ? fail(op, "MPI_Reduce_scatter_block", rc) : 0;
}

int lz_mpi_send(const void *buf, int64_t n, lz_dtype dt, int dst, lz_mpi_handle comm,
                const char *op) {
  size_t es = lz_dtype_size(dt);
  int rc = 0;
  pthread_mutex_lock(&mu);
  for (int64_t i = 0; i < n && rc == 0; i += CHUNK) {
    int c = (int)(n - i < CHUNK ? n - i : CHUNK);
    rc = M.Send((const char *)buf + i * es, c, M.dtype[dt], dst, 0, comm);
  }
  pthread_mutex_unlock(&mu);
  return rc ? fail(op, "MPI_Send", rc) : 0;
}

int lz_mpi_recv(void *buf, int64_t n, lz_dtype dt, int src, lz_mpi_handle comm, const char *op) {
  size_t es = lz_dtype_size(dt);
  int rc = 0, got = 0, c = 0;
  /* MPI_Status (Open MPI: 24 bytes); a shorter message than expected is an error, a longer
   * one is MPI's truncation error. */
  _Alignas(16) unsigned char status[64];
  pthread_mutex_lock(&mu);
  for (int64_t i = 0; i < n && rc == 0 && got == c; i += CHUNK) {
    c = (int)(n - i < CHUNK ? n - i : CHUNK);
    rc = M.Recv((char *)buf + i * es, c, M.dtype[dt], src, 0, comm, status);
    if (rc == 0) rc = M.Get_count(status, M.dtype[dt], &got);
  }
  pthread_mutex_unlock(&mu);
  if (rc) return fail(op, "MPI_Recv", rc);
  if (got != c)
    return lz__error(LZ_ERROR_SHAPE, op, "rank %d sent %d elements of %s where %lld were expected",
                     src, got, lz_dtype_name(dt), (long long)n);
  return 0;
}

int lz_mpi_agree(const int64_t *sig, int k, int64_t *lo, int64_t *hi, lz_mpi_handle comm,
                 const char *op) {
  int64_t v[2 * LZ_MPI_SIG_MAX];
  if (k > LZ_MPI_SIG_MAX) return lz__error(LZ_ERROR_INTERNAL, op, "signature too long");
  for (int i = 0; i < k; i++) v[i] = sig[i], v[k + i] = -sig[i];
  pthread_mutex_lock(&mu);
  int rc = M.Allreduce(MPI_IN_PLACE_, v, 2 * k, M.dtype[LZ_INT64], M.op[LZ_MPI_MAX], comm);
  pthread_mutex_unlock(&mu);
  if (rc) return fail(op, "MPI_Allreduce", rc);
  int same = 1;
  for (int i = 0; i < k; i++) {
    hi[i] = v[i], lo[i] = -v[k + i];
    same &= lo[i] == hi[i];
  }
  return same ? 0 : 1;
}
