/* Rung 2: strip-mined. y[n] = max(x[n], 0), walked in strips of kl_relu_strip() floats.
 * ReLU reads each x once and writes each y once: there is no reuse for a strip to keep in
 * cache, so this rung is here to show that blocking buys nothing without reuse (the lesson
 * measures it). The strip is half of L1d, so a strip of x and y together fit in L1d.
 * NaN rule as in naive.c: !(v <= 0) keeps NaN. y may be x. */
#include "variants.h"


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
 * write y with non-temporal stores, by the rule in kernels/tuning.c (x + y beyond 8 x L2 on
 * one thread, beyond L3 for a team). Env KL_RELU_NT_MIN overrides both. */
ptrdiff_t kl_relu_stream_min(int threads) {
    static volatile ptrdiff_t env = -2;
    ptrdiff_t v = kl_env_size("KL_RELU_NT_MIN", &env);
    return v >= 0 ? v : kl_stream_min_default(threads);
}
