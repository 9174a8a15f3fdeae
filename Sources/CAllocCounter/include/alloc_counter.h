// Bytes allocated through malloc and friends, counted as they are handed out and freed, so
// INFO's used_memory costs O(1) (glibc's mallinfo2 walks every free chunk of every arena: after
// a big collection is freed that took ~0.5 s per call and stalled the engine loop).
#ifndef CAIRN_ALLOC_COUNTER_H
#define CAIRN_ALLOC_COUNTER_H

#include <stdint.h>

/// Usable bytes currently allocated: every thread's flushed total plus the calling thread's
/// unflushed remainder (other threads may each hold up to the flush threshold unflushed).
int64_t cairn_allocated_bytes(void);

/// The highest flushed total seen so far.
int64_t cairn_peak_allocated_bytes(void);

/// Bytes one thread may count before adding them to the shared total.
int64_t cairn_alloc_flush_threshold(void);

#endif
