/* linalg ops. */
#ifndef LAZULI_LINALG_H
#define LAZULI_LINALG_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_LINALG_H */
