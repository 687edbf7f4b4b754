/* Lazuli: lazy arrays, composable function transformations and neural networks for C.
 *
 * This header is the whole public API: a symbol not declared here (or in the topic headers it
 * includes) is private. Start with lazuli/core.h, which states the rules for ownership,
 * errors and evaluation that every other function follows. */
#ifndef LAZULI_H
#define LAZULI_H

#define LZ_VERSION_MAJOR 0
#define LZ_VERSION_MINOR 1
#define LZ_VERSION_PATCH 0

#include "lazuli/core.h"
#include "lazuli/creation.h"
#include "lazuli/elementwise.h"
#include "lazuli/reduce.h"
#include "lazuli/shape.h"
#include "lazuli/indexing.h"
#include "lazuli/random.h"
#include "lazuli/linalg.h"
#include "lazuli/transforms.h"
#include "lazuli/dict.h"
#include "lazuli/io.h"
#include "lazuli/nn.h"
#include "lazuli/optim.h"
#include "lazuli/quantize.h"
#include "lazuli/fft.h"
#include "lazuli/conv.h"
#include "lazuli/fast.h"
#include "lazuli/compile.h"
#include "lazuli/distributed.h"
#include "lazuli/export.h"

#endif /* LAZULI_H */
