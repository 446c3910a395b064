/* Rung 2: strip-mined. y[n] = max(x[n], 0), walked in strips of kl_relu_strip() floats.
 * ReLU reads each x once and writes each y once: there is no reuse for a strip to keep in
 * cache, so this rung is here to show that blocking buys nothing without reuse (the lesson
 * measures it). The strip is half of L1d, so a strip of x and y together fit in L1d.
 * NaN rule as in naive.c: !(v <= 0) keeps NaN. y may be x. */
#include "relu.h"

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
