/* Rung 1: three passes over each row of x[rows][cols]: mean, variance, normalise.
 *   y[r][c] = (x[r][c] - mean_r) * rstd_r * gamma[c] + beta[c],  rstd_r = 1/sqrt(var_r + eps)
 * The variance is taken around the mean (two-pass), never as E[x^2] - E[x]^2, which cancels
 * catastrophically when |mean| >> std. Sums are accumulated in double: a float running sum of
 * 4096 values near 1e4 drifts by more than the unit noise we are trying to measure. */
#include "layernorm.h"

#include <math.h>

kl_status kl_layernorm_naive(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                             const float *beta, float eps, float *y, float *mean, float *rstd) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        double sum = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) sum += xr[c];
        double mu = sum / (double)cols;
        double sq = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            double d = xr[c] - mu;
            sq += d * d;
        }
        float m = (float)mu, s = (float)(1.0 / sqrt(sq / (double)cols + eps));
        for (ptrdiff_t c = 0; c < cols; c++) yr[c] = (xr[c] - m) * s * gamma[c] + beta[c];
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    return KL_OK;
    /* END SOLUTION */
}
