/* Rung 2: one pass for the statistics (Welford's update), then one pass to write y.
 *   for k = 1..cols:  d = x - mean;  mean += d / k;  M2 += d * (x - mean)
 *   var = M2 / cols
 * Each update is centred on the running mean, so rows of 1e4 + unit noise do not cancel
 * (unlike E[x^2] - E[x]^2), and x is read twice instead of three times (naive.c). The price
 * is a division per element and a chain of dependent updates: it is scalar and slow.
 * mean and M2 are kept in double. y may be x. */
#include "ln_row.h"

kl_status kl_layernorm_welford(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                               const float *beta, float eps, float *y, float *mean, float *rstd) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        double mu = 0.0, m2 = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            double v = xr[c], d = v - mu;
            mu += d / (double)(c + 1);
            m2 += d * (v - mu);
        }
        kl_ln_acc acc = {(double)cols, mu, m2};
        float m, s;
        if (kl_ln_finish(&acc, eps, &m, &s)) {
            for (ptrdiff_t c = 0; c < cols; c++) yr[c] = (xr[c] - m) * s * gamma[c] + beta[c];
        } else { /* NaN/Inf in the row, or a tiny variance: the careful path */
            kl_ln_row_exact(cols, xr, gamma, beta, eps, yr, &m, &s);
        }
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    return KL_OK;
    /* END SOLUTION */
}
