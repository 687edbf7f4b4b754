/* Elementwise kernels on transposed operands (cpu/loop.c walks those in tiles, packing each
 * transposed input's tile into a row-major buffer): every result equals the same op on
 * contiguous copies, for odd shapes (partial tiles), batched planes, every element size,
 * several transposed inputs at once (more than the packed buffers), a broadcast input beside
 * a transposed one, flipped views, on one thread and on several. */
#include "lz_test.h"

static lz_array *rnd(const int *shape, int nd, lz_dtype dt, uint64_t seed) {
  lz_array *x = lz_random_normal(shape, nd, LZ_FLOAT32, 0, 3, lz_random_key(seed));
  return dt == LZ_BOOL ? lz_greater(x, lz_float(0)) : lz_astype(x, dt);
}

static uint32_t lcg = 99;
/* A (.., R, C) array as the transpose view of a contiguous (.., C, R) one (*tv), and the same
 * values laid out row-major, transposed here on the host (*cv): a reference no kernel made. */
static void transposed(int b, int R, int C, lz_dtype dt, lz_array **tv, lz_array **cv) {
  int nb = b ? b : 1;
  size_t n = (size_t)nb * R * C;
  float *t = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) {
    lcg = lcg * 1664525u + 1013904223u;
    t[i] = (float)((int)(lcg >> 20) - 2048) / 256.0f;
  }
  for (int k = 0; k < nb; k++)
    for (int i = 0; i < C; i++)
      for (int j = 0; j < R; j++)
        c[(size_t)k * R * C + (size_t)j * C + i] = t[(size_t)k * R * C + (size_t)i * R + j];
  lz_array *ta = b ? lz_array_from_data(t, (int[]){b, C, R}, 3, LZ_FLOAT32)
                   : lz_array_from_data(t, (int[]){C, R}, 2, LZ_FLOAT32);
  lz_array *ca = b ? lz_array_from_data(c, (int[]){b, R, C}, 3, LZ_FLOAT32)
                   : lz_array_from_data(c, (int[]){R, C}, 2, LZ_FLOAT32);
  free(t), free(c);
  if (dt == LZ_BOOL)
    ta = lz_greater(ta, lz_float(0)), ca = lz_greater(ca, lz_float(0));
  else
    ta = lz_astype(ta, dt), ca = lz_astype(ca, dt);
  lz_eval(ta), lz_eval(ca); /* converted while contiguous */
  *tv = b ? lz_swapaxes(ta, 1, 2) : lz_swapaxes(ta, 0, 1);
  *cv = ca;
}

static bool same(lz_array *a, lz_array *b) {
  return a && b && lz_item_bool(lz_array_equal(a, b, true));
}

static void check_shapes(void) {
  const int shapes[][3] = {{0, 67, 45}, {3, 130, 70}, {0, 32, 32}, {2, 33, 100}, {0, 40, 20}};
  const lz_dtype dts[] = {LZ_FLOAT32, LZ_FLOAT64, LZ_FLOAT16, LZ_INT8, LZ_INT64};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    int b = shapes[s][0], R = shapes[s][1], C = shapes[s][2];
    int shp[3] = {b, R, C}, nd = b ? 3 : 2;
    const int *sh = b ? shp : shp + 1;
    for (size_t d = 0; d < sizeof dts / sizeof dts[0]; d++) {
      lz_scope_begin();
      lz_dtype dt = dts[d];
      lz_array *xt, *yt, *zt, *ct, *xc, *yc, *zc, *cc, *x = rnd(sh, nd, dt, 40 + s);
      transposed(b, R, C, dt, &xt, &xc);
      transposed(b, R, C, dt, &yt, &yc);
      transposed(b, R, C, dt, &zt, &zc);
      transposed(b, R, C, LZ_BOOL, &ct, &cc);
      CHECK(same(lz_add(x, xt), lz_add(x, xc)));             /* one transposed input */
      CHECK(same(lz_multiply(xt, yt), lz_multiply(xc, yc))); /* two */
      CHECK(same(lz_maximum(xt, x), lz_maximum(xc, x)));
      CHECK(same(lz_negative(xt), lz_negative(xc))); /* unary */
      CHECK(same(lz_contiguous(xt), xc));            /* a copy */
      CHECK(same(lz_astype(xt, LZ_FLOAT32), lz_astype(xc, LZ_FLOAT32)));
      CHECK(same(lz_where(ct, xt, yt), lz_where(cc, xc, yc))); /* three: 1-byte cond too */
      CHECK(same(lz_where(ct, zt, x), lz_where(cc, zc, x)));
      /* a row vector broadcast beside a transposed input, and a flipped transposed view */
      int vs[1] = {C};
      lz_array *v = rnd(vs, 1, dt, 60 + s);
      CHECK(same(lz_subtract(xt, v), lz_subtract(xc, v)));
      int ax[1] = {nd - 1};
      lz_array *ft = lz_flip(xt, ax, 1);
      CHECK(same(lz_add(ft, x), lz_add(lz_flip(xc, ax, 1), x)));
      lz_scope_end();
    }
  }
}

static void test_tiles(void) {
  check_shapes();
  int old = lz_set_num_threads(1);
  check_shapes();
  lz_set_num_threads(old);
}

int main(void) {
  RUN(test_tiles);
  return lzt_summary();
}
