/* reduce ops. */
#ifndef LAZULI_REDUCE_H
#define LAZULI_REDUCE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif /* LAZULI_REDUCE_H */
