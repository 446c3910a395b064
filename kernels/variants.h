/* Internal: what every kernel shares. Each op's own declarations, thresholds and tunables are
 * in kernels/<op>/<op>.h; the registry (registry.c) includes them all.
 * Raw kernels may assume their arguments were checked by validate.c:
 * sizes >= 1, pointers non-NULL, ld >= row length, no bad alias. */
#ifndef KL_VARIANTS_H
#define KL_VARIANTS_H

#include "kernellab.h"

#include <stdint.h> /* PTRDIFF_MAX, for kl_env_size bounds */

/* The one environment reader for tuning knobs: env `name` as a whole number in [lo, hi]
 * (lo >= 0), else -1 (unset, empty, not a number, trailing text, out of range). With a cache
 * (a static starting at KL_ENV_UNREAD), it is read once; NULL reads it every call. */
#define KL_ENV_UNREAD (-2)
ptrdiff_t kl_env_size(const char *name, ptrdiff_t lo, ptrdiff_t hi, volatile ptrdiff_t *cache);

/* A tunable size: env `name` as a whole number >= 0 (read once into *cache), else fallback. */
static inline ptrdiff_t kl_env_or(const char *name, ptrdiff_t fallback, volatile ptrdiff_t *cache) {
    ptrdiff_t v = kl_env_size(name, 0, PTRDIFF_MAX, cache);
    return v >= 0 ? v : fallback;
}

/* An op's dispatch table (dav1d style): defines `const T *getter(void)`, which returns the table
 * `fill()` builds from kl_cpu_isa() on the first call and every later one (a benign race: every
 * first caller fills in the same). */
#define KL_DISPATCH_TABLE(T, getter, fill)                                                   \
    const T *getter(void) {                                                                  \
        static T table_;                                                                     \
        static volatile int ready_;                                                          \
        if (!__atomic_load_n(&ready_, __ATOMIC_ACQUIRE)) {                                   \
            table_ = fill();                                                                 \
            __atomic_store_n(&ready_, 1, __ATOMIC_RELEASE);                                  \
        }                                                                                    \
        return &table_;                                                                      \
    }

/* Floats from which an out-of-place call writes y with non-temporal stores, on any number of
 * threads, for the streaming ops (relu, layernorm); the rule and its reason are in tuning.c. */
ptrdiff_t kl_stream_min_default(void);
/* Bytes of traffic from which a bandwidth-bound kernel on `threads` threads beats one thread:
 * this machine's team wake-up time x its one-thread copy rate x t / (t - 1), measured once per
 * process, clamped to [L1, t x L2] (SIZE_MAX for one thread). The rule alone, for tests:
 * kl_team_min_bytes_rule. */
size_t kl_team_min_bytes(int threads);
size_t kl_team_min_bytes_rule(double wake_s, double copy_bytes_per_s, int threads, size_t l1,
                              size_t l2);

/* Threads an OpenMP variant should use right now (1..KL_MAX_THREADS). */
int kl_threads(void);

#endif
