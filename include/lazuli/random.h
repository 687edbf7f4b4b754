/* random. */
#ifndef LAZULI_RANDOM_H
#define LAZULI_RANDOM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_RANDOM_H */
