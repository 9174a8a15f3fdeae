// C helpers the engine needs and Swift cannot spell: glibc's malloc_usable_size (MEMORY
// USAGE) and a cache prefetch hint. used_memory comes from CAllocCounter.
#include <malloc.h>

/// Asks the CPU to start loading the cache line at `p` (read, keep in all cache levels).
/// A hint only: it never faults, whatever `p` is.
static inline void cairn_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
