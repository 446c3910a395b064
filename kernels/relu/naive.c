/* Rung 1: one element at a time. y[n] = max(x[n], 0); y may be x (in place).
 * !(v <= 0) is true for positives and for NaN, so NaN propagates (as torch.relu does). */
#include "relu.h"

kl_status kl_relu_naive(ptrdiff_t n, const float *x, float *y) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t i = 0; i < n; i++) {
        float v = x[i];
        y[i] = !(v <= 0.0f) ? v : 0.0f;
    }
    return KL_OK;
    /* END SOLUTION */
}
