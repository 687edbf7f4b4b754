/* lazuli.core: the DLPack ABI (dlpack.h, the unversioned 0.x structs every producer still
 * gives when __dlpack__ is called without max_version), declared here for array.c's export
 * (array.__dlpack__) and dlpack.c's import (from_dlpack). A capsule named "dltensor" holds a
 * dl_managed; its consumer renames it "used_dltensor" and calls the deleter when done. */
#ifndef LAZULI_PY_DLPACK_H
#define LAZULI_PY_DLPACK_H

#include <stdint.h>

enum { DL_CPU = 1, DL_CUDA_HOST = 3 }; /* device types */
enum { DL_INT = 0, DL_UINT = 1, DL_FLOAT = 2, DL_BFLOAT = 4, DL_COMPLEX = 5, DL_BOOL = 6 };

typedef struct {
  int32_t device_type, device_id;
} dl_device;
typedef struct {
  uint8_t code, bits;
  uint16_t lanes;
} dl_dtype;
typedef struct {
  void *data;
  dl_device device;
  int32_t ndim;
  dl_dtype dtype;
  int64_t *shape, *strides; /* strides in elements; NULL: row-major contiguous */
  uint64_t byte_offset;
} dl_tensor;
typedef struct dl_managed {
  dl_tensor t;
  void *manager_ctx;
  void (*deleter)(struct dl_managed *);
} dl_managed;

#endif
