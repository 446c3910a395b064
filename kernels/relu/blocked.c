/* Rung 2: strip-mined. y[n] = max(x[n], 0), walked in strips of kl_relu_strip() floats.
 * ReLU reads each x once and writes each y once: there is no reuse for a strip to keep in
 * cache, so this rung is here to show that blocking buys nothing without reuse (the lesson
 * measures it). The strip is half of L1d, so a strip of x and y together fit in L1d.
 * NaN rule as in naive.c: !(v <= 0) keeps NaN. y may be x. */
#include "variants.h"

#include <stdlib.h>

ptrdiff_t kl_relu_strip(void) {
    /* floats: half of L1d (x strip + y strip = L1d); at least 64 floats */
    ptrdiff_t s = (ptrdiff_t)(kl_cpu_cache_bytes(1) / 2 / sizeof(float));
    return s < 64 ? 64 : s;
}

size_t kl_relu_blocked_blocking(ptrdiff_t *sizes, size_t cap) {
    if (cap >= 1) sizes[0] = kl_relu_strip();
    return 1;
}

kl_status kl_relu_blocked(ptrdiff_t n, const float *x, float *y) {
    /* BEGIN SOLUTION */
    ptrdiff_t strip = kl_relu_strip();
    for (ptrdiff_t s = 0; s < n; s += strip) {
        ptrdiff_t end = n - s < strip ? n : s + strip;
        for (ptrdiff_t i = s; i < end; i++) {
            float v = x[i];
            y[i] = !(v <= 0.0f) ? v : 0.0f;
        }
    }
    return KL_OK;
    /* END SOLUTION */
}

/* Shared with the SIMD and OpenMP rungs: out-of-place calls of at least this many floats
 * write y with non-temporal stores. Env KL_RELU_NT_MIN overrides both defaults.
 * - One thread: L2-bytes floats, i.e. x + y = 8 x L2 (512 Ki floats on Zen 3). From there on,
 *   ordinary stores pay a read-for-ownership of every y line from L3/DRAM, one core cannot
 *   keep enough of those misses in flight, and streaming wins (modules/02_relu/README.md).
 * - A team (threads > 1): L3-bytes / 8 floats, i.e. x + y = L3 (4 Mi floats here). Two cores
 *   together pull L3 fast enough that keeping y in L3 beats bypassing it for as long as x and
 *   y fit there: measured at 2 Mi floats, 2 threads, 326 us plain vs 432 us streamed; at
 *   4 Mi, 1430 us plain vs 952 us streamed. */
ptrdiff_t kl_relu_stream_min(int threads) {
    static volatile ptrdiff_t env = -2; /* -2 unread, -1 unset; benign race */
    if (env == -2) {
        const char *e = getenv("KL_RELU_NT_MIN");
        char *end = NULL;
        long long v = e ? strtoll(e, &end, 10) : -1;
        env = (e && end != e && v >= 0) ? (ptrdiff_t)v : -1;
    }
    if (env >= 0) return env;
    return threads > 1 ? (ptrdiff_t)(kl_cpu_cache_bytes(3) / 8) : (ptrdiff_t)kl_cpu_cache_bytes(2);
}
