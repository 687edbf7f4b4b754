/* indexing. */
#ifndef LAZULI_INDEXING_H
#define LAZULI_INDEXING_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_INDEXING_H */
