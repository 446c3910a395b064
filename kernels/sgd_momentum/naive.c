/* Rung 1: PyTorch's SGD with momentum, one parameter at a time (v starts at 0, no dampening):
 *   d = g + weight_decay * w;   v = momentum * v + d;   w = w - lr * v
 * Each element depends only on its own w, g, v: a NaN stays where it is. */
#include "sgd_momentum.h"

kl_status kl_sgd_momentum_naive(ptrdiff_t n, float lr, float momentum, float weight_decay,
                                float *w, const float *g, float *v) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t i = 0; i < n; i++) {
        float d = g[i] + weight_decay * w[i];
        v[i] = momentum * v[i] + d;
        w[i] = w[i] - lr * v[i];
    }
    return KL_OK;
    /* END SOLUTION */
}
