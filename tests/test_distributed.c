/* The distributed module. Run alone, it checks the single-process behaviour (a size-1 world
 * group, collectives returning their input, MLX's errors). Run under mpirun with the expected
 * number of ranks as argument (scripts/mpi_test.sh, `test_distributed_mpi_2/3`), it checks
 * every collective against a reference computed locally from every rank's data. */
#include "lz_test.h"
#include "transforms/vmap_impl.h"

#include <signal.h>
#include <unistd.h>

static lz_group *world;
static int R, N; /* this rank, the group size */

/* Rank r's element i: small integers, so sums are exact in every dtype (bfloat16 included). */
static double val(int r, int64_t i, lz_dtype dt) {
  int v = (int)(((r + 1) * 7 + i * 3) % 23);
  if (dt == LZ_BOOL) return v % 2;
  if (lz_dtype_is_float(dt) || dt == LZ_COMPLEX64 || dt == LZ_INT8 || dt == LZ_INT16 ||
      dt == LZ_INT32 || dt == LZ_INT64)
    return v - 11;
  return v;
}

/* Rank r's array of `shape`, dtype dt (scope-owned). */
static lz_array *data(int r, const int *shape, int nd, lz_dtype dt) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  double *v = malloc((size_t)(n ? n : 1) * sizeof *v);
  for (int64_t i = 0; i < n; i++) v[i] = val(r, i, dt);
  lz_array *a = lz_astype(lz_array_from_data(v, shape, nd, LZ_FLOAT64), dt);
  free(v);
  return a;
}

static const lz_dtype all_dtypes[] = {LZ_BOOL,  LZ_UINT8,   LZ_UINT16,  LZ_UINT32, LZ_UINT64,
                                      LZ_INT8,  LZ_INT16,   LZ_INT32,   LZ_INT64,  LZ_FLOAT16,
                                      LZ_BFLOAT16, LZ_FLOAT32, LZ_FLOAT64, LZ_COMPLEX64};
#define NDT (int)(sizeof all_dtypes / sizeof all_dtypes[0])

/* ---- one process ---- */

static void test_single_process(void) {
  CHECK(lz_group_size(world) == 1 && lz_group_rank(world) == 0);
  lz_array *x = data(0, (int[]){5, 3}, 2, LZ_FLOAT32);
  double ref[15];
  for (int i = 0; i < 15; i++) ref[i] = val(0, i, LZ_FLOAT32);
  CHECK_VALUES(lz_all_sum(x, world), ref, 15, 0);
  CHECK_VALUES(lz_all_max(x, NULL), ref, 15, 0);
  CHECK_VALUES(lz_all_min(x, world), ref, 15, 0);
  CHECK_VALUES(lz_all_gather(x, world), ref, 15, 0);
  CHECK_VALUES(lz_sum_scatter(x, world), ref, 15, 0);
  CHECK_ERROR(lz_send(x, 0, world), "[lz_send] cannot send to a singleton group");
  CHECK_ERROR(lz_recv_like(x, 0, world), "[lz_recv] cannot recv from a singleton group");
  lz_group *s = lz_group_split(world, 1, -1);
  CHECK(lz_group_size(s) == 1 && lz_group_rank(s) == 0);
  lz_group_free(s);
  CHECK_ERROR(lz_distributed_init("nccl", false), "[lz_distributed_init] unknown backend 'nccl'");
  CHECK_ERROR(lz_distributed_init("mpi", true), "[lz_distributed_init] MPI is not available");
  CHECK_ERROR(lz_all_max(lz_astype(x, LZ_COMPLEX64), world), "[lz_all_max] max is not supported for complex64");
  CHECK_ERROR(lz_group_split(world, -2, 0), "[lz_group_split] color must be non-negative");
}

/* ---- under mpirun ---- */

static void check_reduce(const int *shape, int nd, bool transposed) {
  int64_t n = 1;
  for (int d = 0; d < nd; d++) n *= shape[d];
  double *ref = malloc((size_t)(n ? n : 1) * 3 * sizeof *ref);
  for (int t = 0; t < NDT; t++) {
    lz_dtype dt = all_dtypes[t];
    lz_scope_begin();
    lz_array *x = data(R, shape, nd, dt);
    if (transposed) x = lz_transpose(x, NULL, 0); /* a strided input */
    for (int64_t i = 0; i < n; i++) {
      double s = 0, mx = -1e9, mn = 1e9;
      for (int r = 0; r < N; r++) {
        double v = val(r, i, dt);
        s += v, mx = v > mx ? v : mx, mn = v < mn ? v : mn;
      }
      if (dt == LZ_BOOL) s = s > 0;
      ref[i] = s, ref[n + i] = mx, ref[2 * n + i] = mn;
    }
    lz_array *ys = lz_all_sum(x, world);
    CHECK(ys && lz_array_dtype(ys) == dt);
    if (transposed) ys = lz_transpose(ys, NULL, 0);
    CHECK_VALUES(ys, ref, (size_t)n, 0);
    if (dt != LZ_COMPLEX64) {
      lz_array *ymax = lz_all_max(x, world), *ymin = lz_all_min(x, world);
      if (transposed) ymax = lz_transpose(ymax, NULL, 0), ymin = lz_transpose(ymin, NULL, 0);
      CHECK_VALUES(ymax, ref + n, (size_t)n, 0);
      CHECK_VALUES(ymin, ref + 2 * n, (size_t)n, 0);
    }
    if (lzt_failures) fprintf(stderr, "  (dtype %s, size %lld)\n", lz_dtype_name(dt), (long long)n);
    lz_scope_end();
  }
  free(ref);
}

static void test_all_reduce(void) {
  check_reduce((int[]){5, 3}, 2, false);
  check_reduce((int[]){7, 3}, 2, true);
  check_reduce((int[]){1}, 0, false); /* 0-d */
  check_reduce((int[]){0, 4}, 2, false);
  check_reduce((int[]){1001}, 1, false);
}

static void test_float16_sum_rounds_once(void) {
  /* 2048 + 1 + 1 (+ 1): float16 steps by 2 there; a float32 reduction keeps the total. */
  double v = R == 0 ? 2048 : 1, want = 2048 + (N - 1);
  lz_array *x = lz_astype(lz_array_from_data(&v, NULL, 0, LZ_FLOAT64), LZ_FLOAT16);
  lz_array *y = lz_all_sum(x, world);
  double expect = (double)lz_item_f64(lz_astype(lz_array_from_data(&want, NULL, 0, LZ_FLOAT64), LZ_FLOAT16));
  CHECK_CLOSE(lz_item_f64(y), expect, 0);
}

static void test_all_gather(void) {
  for (int t = 0; t < NDT; t++) {
    lz_dtype dt = all_dtypes[t];
    lz_array *x = data(R, (int[]){3, 5}, 2, dt);
    lz_array *y = lz_all_gather(lz_transpose(x, NULL, 0), world); /* (5,3) each, strided */
    CHECK_SHAPE(y, 5 * N, 3);
    double *ref = malloc(sizeof(double) * 15 * (size_t)N);
    for (int r = 0; r < N; r++)
      for (int i = 0; i < 5; i++)
        for (int j = 0; j < 3; j++) ref[r * 15 + i * 3 + j] = val(r, j * 5 + i, dt);
    CHECK_VALUES(y, ref, 15 * (size_t)N, 0);
    free(ref);
  }
  double v = 10 * R + 1, ref[8];
  for (int r = 0; r < N; r++) ref[r] = 10 * r + 1;
  lz_array *s = lz_all_gather(lz_array_from_data(&v, NULL, 0, LZ_FLOAT64), world);
  CHECK_SHAPE(s, N);
  CHECK_VALUES(s, ref, (size_t)N, 0);
}

static void test_sum_scatter(void) {
  for (int t = 0; t < NDT; t++) {
    lz_dtype dt = all_dtypes[t];
    int rows = 3 * N;
    lz_array *x = data(R, (int[]){rows, 2}, 2, dt);
    lz_array *y = lz_sum_scatter(x, world);
    CHECK_SHAPE(y, 3, 2);
    double ref[6];
    for (int i = 0; i < 6; i++) {
      double s = 0;
      for (int r = 0; r < N; r++) s += val(r, R * 6 + i, dt);
      ref[i] = dt == LZ_BOOL ? s > 0 : s;
    }
    CHECK_VALUES(y, ref, 6, 0);
  }
  lz_array *bad = data(R, (int[]){N + 1, 2}, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_sum_scatter(bad, world), "[lz_sum_scatter] invalid shape");
}

static void test_split(void) {
  /* Two groups, even and odd ranks, each ordered by decreasing world rank. */
  lz_group *g = lz_group_split(world, R % 2, N - R);
  int members = (N + 1 - R % 2) / 2, expect_rank = 0;
  for (int r = R + 2; r < N; r += 2) expect_rank++;
  CHECK(lz_group_size(g) == members);
  CHECK(lz_group_rank(g) == expect_rank);
  double v = 1 << R, want = 0;
  for (int r = R % 2; r < N; r += 2) want += 1 << r;
  lz_array *x = lz_array_from_data(&v, NULL, 0, LZ_FLOAT64);
  lz_array *y = lz_all_sum(x, g);
  lz_group_free(g); /* the pending op keeps the group alive */
  CHECK_CLOSE(lz_item_f64(y), want, 0);
  lz_group *h = lz_group_split(world, 0, -1); /* everyone, same order */
  CHECK(lz_group_size(h) == N && lz_group_rank(h) == R);
  lz_group_free(h);
}

static void test_send_recv(void) {
  int shape[2] = {4, 3};
  for (int t = 0; t < NDT; t++) {
    lz_dtype dt = all_dtypes[t];
    if (R == 0) {
      lz_array *x = data(0, shape, 2, dt);
      lz_array *s = lz_send(lz_transpose(x, NULL, 0), 1, world);
      CHECK(lz_eval(s) == 0);
    } else if (R == 1) {
      lz_array *y = lz_recv((int[]){3, 4}, 2, dt, 0, world);
      double ref[12];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++) ref[i * 4 + j] = val(0, j * 3 + i, dt);
      CHECK_VALUES(y, ref, 12, 0);
    }
  }
  lz_array *x = data(R, shape, 2, LZ_FLOAT32);
  CHECK_ERROR(lz_send(x, N, world), "[lz_send] invalid destination");
  CHECK_ERROR(lz_recv_like(x, -1, world), "[lz_recv] invalid source");
  CHECK_ERROR(lz_send(x, R, world), "own rank");
}

static void test_ring(void) {
  /* Each rank passes its array to the next; even ranks send first, odd ones receive first. */
  int n = 100003, next = (R + 1) % N, prev = (R + N - 1) % N;
  lz_array *x = data(R, &n, 1, LZ_FLOAT32);
  lz_array *s = lz_send(x, next, world), *y = lz_recv_like(x, prev, world);
  if (R % 2 == 0) CHECK(lz_eval(s) == 0 && lz_eval(y) == 0);
  else CHECK(lz_eval(y) == 0 && lz_eval(s) == 0);
  double *ref = malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) ref[i] = val(prev, i, LZ_FLOAT32);
  CHECK_VALUES(y, ref, (size_t)n, 0);
  for (int i = 0; i < n; i++) ref[i] = val(R, i, LZ_FLOAT32);
  CHECK_VALUES(s, ref, (size_t)n, 0); /* send's result is its input */
  free(ref);
}

/* f(x, w) = sum(all_sum(x) * w) and g(x, c) = sum(all_gather(x) * c). */
static int f_sum(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_sum(lz_multiply(lz_all_sum(in[0], world), in[1]), false);
  return out[0] ? 1 : -1;
}
static int f_gather(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_sum(lz_multiply(lz_all_gather(in[0], world), in[1]), false);
  return out[0] ? 1 : -1;
}
static int f_sum_only(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = lz_all_sum(in[0], world);
  return out[0] ? 1 : -1;
}

static void test_gradients(void) {
  int n = 5;
  lz_array *x = data(R, &n, 1, LZ_FLOAT32), *w = lz_multiply(data(R + 3, &n, 1, LZ_FLOAT32), lz_float(0.5));
  lz_closure *f = lz_closure_new(f_sum, NULL, NULL), *gf = lz_grad(f, NULL, 0);
  lz_array *in[2] = {x, w}, *g[1] = {NULL};
  CHECK(lz_closure_call(gf, in, 2, g) == 1);
  double ref[5 * 8];
  for (int i = 0; i < n; i++) ref[i] = 0.5 * val(R + 3, i, LZ_FLOAT32); /* MLX: passed through */
  CHECK_VALUES(g[0], ref, 5, 1e-6);
  lz_closure_free(gf), lz_closure_free(f);

  /* jvp of all_sum: the sum of every rank's tangent. */
  lz_closure *fs = lz_closure_new(f_sum_only, NULL, NULL);
  lz_array *t = lz_multiply(data(R, &n, 1, LZ_FLOAT32), lz_float(2)), *outs[4], *tans[4];
  CHECK(lz_jvp(fs, &x, 1, &t, outs, tans) == 1);
  for (int i = 0; i < n; i++) {
    ref[i] = 0;
    for (int r = 0; r < N; r++) ref[i] += 2 * val(r, i, LZ_FLOAT32);
  }
  CHECK_VALUES(tans[0], ref, 5, 1e-6);
  lz_closure_free(fs);

  /* all_gather: this rank's slice of the cotangent. */
  int cn = n * N;
  lz_array *c = data(7, &cn, 1, LZ_FLOAT32);
  lz_closure *fg = lz_closure_new(f_gather, NULL, NULL), *gg = lz_grad(fg, NULL, 0);
  lz_array *in2[2] = {x, c};
  CHECK(lz_closure_call(gg, in2, 2, g) == 1);
  for (int i = 0; i < n; i++) ref[i] = val(7, R * n + i, LZ_FLOAT32);
  CHECK_VALUES(g[0], ref, 5, 0);
  lz_closure_free(gg), lz_closure_free(fg);
}

/* ---- vmap ---- */

typedef lz_array *(*collective_fn)(lz_array *, lz_group *);
static collective_fn vmapped;
static int f_collective(void *ctx, lz_array *const *in, int n, lz_array **out) {
  out[0] = vmapped(in[0], world);
  return out[0] ? 1 : -1;
}

/* vmap(op) over axis `axis` of x equals op on each example, stacked along the out axis. */
static void check_vmap(collective_fn op, lz_array *x, int axis) {
  lz_scope_begin();
  vmapped = op;
  lz_closure *f = lz_closure_new(f_collective, NULL, NULL);
  lz_closure *vf = lz_vmap(f, &axis, 1, NULL, 0);
  lz_array *y[1] = {NULL};
  CHECK(vf && lz_closure_call(vf, &x, 1, y) == 1);
  int b = lz_array_shape(x)[axis];
  lz_array *ex[16];
  for (int i = 0; i < b; i++) {
    int64_t k = i;
    ex[i] = op(lz_take(x, lz_array_from_data(&k, NULL, 0, LZ_INT64), axis), world);
  }
  lz_array *ref = lz_stack(ex, b, 0);
  CHECK(y[0] && lz_array_ndim(y[0]) == lz_array_ndim(ref));
  CHECK(lz_item_f64(lz_array_equal(y[0], ref, false)) == 1);
  lz_closure_free(vf), lz_closure_free(f);
  lz_scope_end();
}

static void test_vmap(void) {
  for (int op = LZ_OP_ALL_SUM; op <= LZ_OP_SEND; op++) CHECK(lz__vmap_has_rule(op));
  lz_array *x = data(R, (int[]){4, 3 * N, 2}, 3, LZ_FLOAT32); /* 4 examples along axis 0 */
  for (int axis = 0; axis < 3; axis++) {
    check_vmap(lz_all_sum, x, axis);
    check_vmap(lz_all_max, x, axis);
    check_vmap(lz_all_min, x, axis);
    check_vmap(lz_all_gather, x, axis);
  }
  check_vmap(lz_sum_scatter, x, 0); /* each example (3N, 2) scatters its rows */
  lz_array *x2 = data(R, (int[]){2 * N, 3, 2}, 3, LZ_FLOAT32);
  check_vmap(lz_sum_scatter, x2, 1);
  check_vmap(lz_sum_scatter, x2, 2);
  check_vmap(lz_all_gather, data(R, (int[]){5}, 1, LZ_INT32), 0); /* 0-d examples */
  /* vmap(grad(sum(all_sum(x) * w))): per-example gradients through the collective. */
  lz_array *w = data(R + 1, (int[]){3}, 1, LZ_FLOAT32), *xs = data(R, (int[]){4, 3}, 2, LZ_FLOAT32);
  lz_closure *f = lz_closure_new(f_sum, NULL, NULL), *g = lz_grad(f, NULL, 0);
  lz_closure *vg = lz_vmap(g, (int[]){0, LZ_VMAP_NONE}, 2, NULL, 0);
  lz_array *in[2] = {xs, w}, *out[1] = {NULL};
  CHECK(lz_closure_call(vg, in, 2, out) == 1);
  CHECK_SHAPE(out[0], 4, 3);
  double ref[12];
  for (int i = 0; i < 12; i++) ref[i] = val(R + 1, i % 3, LZ_FLOAT32);
  CHECK_VALUES(out[0], ref, 12, 0);
  lz_closure_free(vg), lz_closure_free(g), lz_closure_free(f);
}

/* ---- failure modes (each its own mpirun job: test_distributed N --fail MODE) ---- */

/* Evaluating y fails with an error containing `needle`. */
#define CHECK_EVAL_ERROR(y, needle)                                                              \
  do {                                                                                           \
    lz_clear_error();                                                                            \
    lzt_checks++;                                                                                \
    if (lz_eval(y) == 0 || !strstr(lz_last_error(), needle)) {                                   \
      lzt_failures++;                                                                            \
      fprintf(stderr, "%s:%d: expected an error containing \"%s\", got \"%s\"\n", __FILE__,    \
              __LINE__, needle, lz_last_error());                                                \
    }                                                                                            \
    lz_clear_error();                                                                            \
  } while (0)

/* Arrays that differ across ranks: every rank gets the same kind of error, and the group
 * still works afterwards. */
static void test_mismatch(void) {
  lz_array *x = data(R, (int[]){3 + R, 2}, 2, LZ_FLOAT32);
  CHECK_EVAL_ERROR(lz_all_sum(x, world), "[lz_all_sum] shapes differ across ranks");
  CHECK_EVAL_ERROR(lz_all_gather(x, world), "[lz_all_gather] shapes differ across ranks");
  lz_array *t = data(R, (int[]){2 * N, R ? 3 : 2}, 2, LZ_FLOAT32); /* same size 0 */
  CHECK_EVAL_ERROR(lz_sum_scatter(t, world), "[lz_sum_scatter] shapes differ across ranks");
  lz_array *d = data(R, (int[]){4}, 1, R ? LZ_INT32 : LZ_FLOAT32);
  CHECK_EVAL_ERROR(lz_all_max(d, world), "[lz_all_max] dtypes differ across ranks");
  lz_array *e = data(R, (int[]){4}, 1, LZ_FLOAT32);
  lz_array *y = R ? lz_all_max(e, world) : lz_all_sum(e, world);
  CHECK_EVAL_ERROR(y, "ranks ran different collectives");
  /* Afterwards a matching collective works. */
  double ref[4];
  for (int i = 0; i < 4; i++) {
    ref[i] = 0;
    for (int r = 0; r < N; r++) ref[i] += val(r, i, LZ_FLOAT32);
  }
  CHECK_VALUES(lz_all_sum(e, world), ref, 4, 0);
  /* A recv expecting more than was sent, then less. */
  if (R == 0) {
    CHECK(lz_eval(lz_send(data(0, (int[]){5}, 1, LZ_FLOAT32), 1, world)) == 0);
    CHECK(lz_eval(lz_send(data(0, (int[]){7}, 1, LZ_FLOAT32), 1, world)) == 0);
  } else if (R == 1) {
    CHECK_EVAL_ERROR(lz_recv((int[]){7}, 1, LZ_FLOAT32, 0, world),
                     "[lz_recv] rank 0 sent 5 elements of float32 where 7 were expected");
    CHECK_EVAL_ERROR(lz_recv((int[]){5}, 1, LZ_FLOAT32, 0, world), "[lz_recv] MPI_Recv failed");
  }
}

/* Rank 1 leaves while rank 0 waits in a collective: failing (exit 3), killed, or claiming
 * success (exit 0). The first two must end the job at once (scripts/mpi_test.sh with
 * LZ_MPI_EXPECT=abort); the last only the launcher's timeout ends (LZ_MPI_EXPECT=timeout). */
static int peer_leaves(const char *how) {
  if (R == 1) {
    if (strcmp(how, "peer_exit") == 0) exit(3);
    if (strcmp(how, "peer_killed") == 0) raise(SIGKILL);
    return 0;
  }
  lz_array *x = data(R, (int[]){16}, 1, LZ_FLOAT32);
  int rc = lz_eval(lz_all_sum(x, world));
  fprintf(stderr, "rank %d: the collective returned %d (%s)\n", R, rc, lz_last_error());
  return 0; /* reaching here is the failure the caller's script reports */
}

/* nn.average_gradients: the mean over ranks, whatever the packing. */
static void check_average(bool mixed, int64_t all_reduce_size) {
  static const int shapes[4][2] = {{3, 5}, {7, 1}, {1, 1}, {33, 2}};
  lz_dict *g = lz_dict_new();
  char key[16];
  for (int k = 0; k < 4; k++) {
    snprintf(key, sizeof key, "p%d", k);
    lz_dtype dt = mixed && k == 2 ? LZ_FLOAT16 : LZ_FLOAT32;
    lz_dict_set(g, key, data(R + k, shapes[k], 2, dt));
  }
  lz_dict *avg = lz_nn_average_gradients(g, world, all_reduce_size);
  CHECK(avg && lz_dict_size(avg) == 4);
  for (int k = 0; avg && k < 4; k++) {
    lz_array *a = lz_dict_value(avg, (size_t)k);
    int n = shapes[k][0] * shapes[k][1];
    CHECK_SHAPE(a, shapes[k][0], shapes[k][1]);
    CHECK(lz_array_dtype(a) == (mixed && k == 2 ? LZ_FLOAT16 : LZ_FLOAT32));
    double ref[66];
    for (int i = 0; i < n; i++) {
      ref[i] = 0;
      for (int r = 0; r < N; r++) ref[i] += val(r + k, i, LZ_FLOAT32) / N;
    }
    CHECK_VALUES(a, ref, (size_t)n, 1e-3);
  }
  lz_dict_free(avg), lz_dict_free(g);
}

static void test_average_gradients(void) {
  check_average(false, LZ_NN_ALL_REDUCE_SIZE); /* one message */
  check_average(false, 64);                    /* several */
  check_average(false, 0);                     /* one per array */
  check_average(true, LZ_NN_ALL_REDUCE_SIZE);  /* mixed dtypes: one per array */
}

static void test_average_gradients_one_process(void) {
  lz_dict *g = lz_dict_new();
  lz_array *x = data(0, (int[]){2, 3}, 2, LZ_FLOAT32);
  lz_dict_set(g, "w", x);
  lz_dict *avg = lz_nn_average_gradients(g, NULL, LZ_NN_ALL_REDUCE_SIZE);
  lz_array *w = avg ? lz_dict_get(avg, "w") : NULL;
  CHECK(w == x); /* unchanged */
  lz_free(w);
  lz_dict_free(avg), lz_dict_free(g);
  CHECK_ERROR(lz_nn_average_gradients(NULL, world, 0), "[lz_nn_average_gradients] grads is NULL");
}

int main(int argc, char **argv) {
  int expect = argc > 1 ? atoi(argv[1]) : 1;
  world = lz_distributed_init("any", false);
  if (!world) {
    fprintf(stderr, "init failed: %s\n", lz_last_error());
    return 1;
  }
  R = lz_group_rank(world), N = lz_group_size(world);
  if (N != expect) {
    fprintf(stderr, "expected a group of %d processes, got %d (available: %d)\n", expect, N,
            (int)lz_distributed_is_available());
    return 1;
  }
  const char *fail = argc > 3 && strcmp(argv[2], "--fail") == 0 ? argv[3] : NULL;
  if (fail && N > 1 && strcmp(fail, "mismatch") != 0) return peer_leaves(fail);
  if (fail && N > 1) {
    RUN(test_mismatch);
    lz_group_free(world);
    if (R != 0) fclose(stdout);
    return lzt_summary();
  }
  if (N == 1) {
    RUN(test_single_process);
    RUN(test_average_gradients_one_process);
  } else {
    RUN(test_all_reduce);
    RUN(test_float16_sum_rounds_once);
    RUN(test_all_gather);
    RUN(test_sum_scatter);
    RUN(test_split);
    RUN(test_send_recv);
    RUN(test_ring);
    RUN(test_gradients);
    RUN(test_average_gradients);
    RUN(test_vmap);
  }
  lz_group_free(world);
  if (R != 0) fclose(stdout); /* one summary line per job */
  return lzt_summary();
}
