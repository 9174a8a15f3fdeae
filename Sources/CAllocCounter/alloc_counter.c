// A counting layer over glibc's allocator: this object defines malloc, free, calloc, realloc
// and the aligned variants, each forwarding to glibc's own implementation (__libc_*) and adding
// or subtracting malloc_usable_size of the block. glibc documents replacing these functions
// ("Replacing malloc" in its manual); every one it lists is defined here, so no block is
// allocated by one layer and freed by the other.
//
// Each thread counts into a thread-local delta and adds it to the shared atomic total when it
// passes FLUSH_BYTES either way: one add per ~64 KiB of traffic instead of one atomic per call.

#define _GNU_SOURCE
#include "alloc_counter.h"
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

#define FLUSH_BYTES (64 * 1024)

static _Atomic int64_t total_bytes;
static _Atomic int64_t peak_bytes;
static __thread int64_t thread_delta;

static void flush(int64_t delta) {
    int64_t now = atomic_fetch_add_explicit(&total_bytes, delta, memory_order_relaxed) + delta;
    int64_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
    while (now > peak &&
           !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, now, memory_order_relaxed,
                                                  memory_order_relaxed)) {
    }
}

static inline void count(int64_t bytes) {
    int64_t d = thread_delta + bytes;
    if (d > FLUSH_BYTES || d < -FLUSH_BYTES) {
        flush(d);
        d = 0;
    }
    thread_delta = d;
}

static inline void *counted(void *p) {
    if (p) count((int64_t)malloc_usable_size(p));
    return p;
}

void *malloc(size_t size) { return counted(__libc_malloc(size)); }

void free(void *ptr) {
    if (!ptr) return;
    count(-(int64_t)malloc_usable_size(ptr));
    __libc_free(ptr);
}

void *calloc(size_t count_, size_t size) { return counted(__libc_calloc(count_, size)); }

void *realloc(void *ptr, size_t size) {
    int64_t before = ptr ? (int64_t)malloc_usable_size(ptr) : 0;
    void *p = __libc_realloc(ptr, size);
    if (p) {
        count((int64_t)malloc_usable_size(p) - before);
    } else if (ptr && size == 0) {
        count(-before);   // glibc's realloc(p, 0) frees p and returns NULL
    }
    return p;
}

void *reallocarray(void *ptr, size_t n, size_t size) {
    size_t bytes;
    if (__builtin_mul_overflow(n, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(ptr, bytes);
}

void *memalign(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

void *aligned_alloc(size_t alignment, size_t size) { return counted(__libc_memalign(alignment, size)); }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = __libc_memalign(alignment, size);
    if (!p) return ENOMEM;
    *out = counted(p);
    return 0;
}

void *valloc(size_t size) { return counted(__libc_valloc(size)); }

void *pvalloc(size_t size) { return counted(__libc_pvalloc(size)); }

int64_t cairn_allocated_bytes(void) {
    return atomic_load_explicit(&total_bytes, memory_order_relaxed) + thread_delta;
}

int64_t cairn_peak_allocated_bytes(void) {
    int64_t peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
    int64_t now = cairn_allocated_bytes();
    return now > peak ? now : peak;
}

int64_t cairn_alloc_flush_threshold(void) { return FLUSH_BYTES; }
