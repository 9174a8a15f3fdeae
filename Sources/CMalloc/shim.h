// C helpers the engine needs and Swift cannot spell: glibc's malloc_usable_size (MEMORY
// USAGE), a cache prefetch hint and the CPU's cycle counter. used_memory comes from
// CAllocCounter.
#include <malloc.h>
#include <stdint.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

/// Asks the CPU to start loading the cache line at `p` (read, keep in all cache levels).
/// A hint only: it never faults, whatever `p` is.
static inline void cairn_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// The CPU's time-stamp counter (RDTSC), or 0 where there is none. About 10 ns against 23 for
/// a vDSO clock_gettime on the machines we measured; Engine's CommandClock turns it into
/// microseconds only where the counter runs at a constant rate (constant_tsc, nonstop_tsc).
static inline uint64_t cairn_cycles(void) {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return 0;
#endif
}
