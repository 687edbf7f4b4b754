/* The Fashion-MNIST splits as float images in [0, 1] and int32 labels. */
#ifndef MNIST_DATA_H
#define MNIST_DATA_H

#include <stdint.h>

enum { IMAGE_SIZE = 28 * 28, NUM_CLASSES = 10 };

typedef struct dataset {
  int n;
  float *images; /* n x IMAGE_SIZE, scaled to [0, 1] */
  int32_t *labels;
} dataset;

/* Loads the first `subset` (all when 0) images of split `prefix` ("train" or "t10k") from the
 * gzip-compressed IDX files in `dir`. Returns 0, or -1 after printing what went wrong. */
int dataset_load(const char *dir, const char *prefix, int subset, dataset *d);
void dataset_free(dataset *d);

#endif
