/* Rung 1: one element at a time. dx = dy where y > 0, 0 where y <= 0, NaN where y is NaN
 * (the forward value was already NaN: the gradient must not hide it). A NaN in dy where
 * y <= 0 gives 0: that input never reached the output. */
#include "relu_backward.h"

kl_status kl_relu_backward_naive(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : (y[i] != y[i] ? y[i] : 0.0f);
    return KL_OK;
    /* END SOLUTION */
}
