/* Rung 1: the backward pass of layernorm, row by row, from the saved mean and rstd.
 * With xhat = (x - mean) rstd and g = gamma dy (the gradient reaching xhat):
 *   dx = rstd (g - mean_c(g) - xhat mean_c(g xhat))     (the two means: one pass over the row)
 *   dgamma[c] = sum_r dy xhat,  dbeta[c] = sum_r dy     (rows added in order)
 * dy is read before dx is written at each element, so dx may be dy itself. */
#include "layernorm_backward.h"

#include <string.h>

kl_status kl_layernorm_backward_naive(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                      const float *gamma, const float *mean, const float *rstd,
                                      const float *dy, float *dx, float *dgamma, float *dbeta) {
    /* BEGIN SOLUTION */
    if (dgamma) memset(dgamma, 0, (size_t)cols * sizeof(float));
    if (dbeta) memset(dbeta, 0, (size_t)cols * sizeof(float));
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        float mu = mean[r], s = rstd[r], sum_g = 0.0f, sum_gx = 0.0f;
        for (ptrdiff_t c = 0; c < cols; c++) {
            float xh = (xr[c] - mu) * s, g = gamma[c] * dyr[c];
            sum_g += g;
            sum_gx += g * xh;
        }
        float mean_g = sum_g / (float)cols, mean_gx = sum_gx / (float)cols;
        for (ptrdiff_t c = 0; c < cols; c++) {
            float xh = (xr[c] - mu) * s, d = dyr[c];
            if (dgamma) dgamma[c] += d * xh;
            if (dbeta) dbeta[c] += d;
            dxr[c] = s * (gamma[c] * d - mean_g - xh * mean_gx);
        }
    }
    return KL_OK;
    /* END SOLUTION */
}
