/* Loading a Fashion-MNIST split (see data.h) from its IDX files. */
#include "data.h"

#include <stdio.h>
#include <stdlib.h>

#include "idx.h"

int dataset_load(const char *dir, const char *prefix, int subset, dataset *d) {
  char ipath[512], lpath[512], err[600];
  snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
  snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
  *d = (dataset){0};
  idx_file im, lb;
  if (idx_read(ipath, &im, err, sizeof err) != 0) {
    fprintf(stderr, "mnist: %s\n", err);
    fprintf(stderr, "mnist: install the data with: apt-get install dataset-fashion-mnist\n");
    return -1;
  }
  if (idx_read(lpath, &lb, err, sizeof err) != 0) {
    fprintf(stderr, "mnist: %s\n", err);
    idx_free(&im);
    return -1;
  }
  if (im.ndim != 3 || im.dims[1] != 28 || im.dims[2] != 28 || lb.ndim != 1 ||
      lb.dims[0] != im.dims[0]) {
    fprintf(stderr, "mnist: '%s' and '%s' do not match (%d images, %d labels)\n", ipath, lpath,
            im.dims[0], lb.dims[0]);
    idx_free(&im), idx_free(&lb);
    return -1;
  }
  d->n = subset > 0 && subset < im.dims[0] ? subset : im.dims[0];
  d->images = malloc((size_t)d->n * IMAGE_SIZE * sizeof(float));
  d->labels = malloc((size_t)d->n * sizeof(int32_t));
  for (size_t i = 0; d->images && i < (size_t)d->n * IMAGE_SIZE; i++)
    d->images[i] = im.data[i] / 255.0f;
  for (int i = 0; d->labels && i < d->n; i++) {
    if (lb.data[i] >= NUM_CLASSES) {
      fprintf(stderr, "mnist: '%s' has label %d at %d (expected 0..9)\n", lpath, lb.data[i], i);
      d->n = 0;
      break;
    }
    d->labels[i] = lb.data[i];
  }
  idx_free(&im), idx_free(&lb);
  if (d->images && d->labels && d->n > 0) return 0;
  if (d->n > 0) fprintf(stderr, "mnist: out of memory loading '%s'\n", ipath);
  dataset_free(d);
  return -1;
}

void dataset_free(dataset *d) {
  free(d->images), free(d->labels);
  *d = (dataset){0};
}
