/* shape ops. */
#ifndef LAZULI_SHAPE_H
#define LAZULI_SHAPE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_SHAPE_H */
