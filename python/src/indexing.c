/* Indexing: __getitem__, __setitem__ and x.at[...] (filled in below). */
#include "pylz.h"

PyMappingMethods pylz_array_as_mapping = {0};
