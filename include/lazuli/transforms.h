/* transforms. */
#ifndef LAZULI_TRANSFORMS_H
#define LAZULI_TRANSFORMS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_TRANSFORMS_H */
