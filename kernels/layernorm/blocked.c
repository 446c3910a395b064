/* Rung 3: row-blocked, scalar. Per row (shapes in ln_row.h):
 *   for each chunk of kl_ln_chunk() floats (a quarter of L1d): pass a sums x - x[first],
 *   pass b sums (x - chunk mean) and its square, both while the chunk is in L1; chunks are
 *   merged in double (Chan). Then pass c writes y = (x - mean) * rstd * gamma + beta, while
 *   the row is still in L2 (rows up to L2/8 floats, 64 Ki floats on a 512 KiB L2).
 * x is read from memory once per row instead of three times as in naive.c; eight float
 * accumulators give the compiler independent adds. y may be x: pass c reads x[c] before
 * writing y[c]. */
#include "ln_row.h"

/* sum over len floats of (x - s), in 8 float lanes folded into double every 256 floats */
static inline double sum_shifted(ptrdiff_t len, const float *x, float s) {
    double acc = 0.0;
    for (ptrdiff_t i = 0; i < len; i += 256) {
        ptrdiff_t end = len - i < 256 ? len : i + 256, j = i;
        float a[8] = {0};
        for (; j + 8 <= end; j += 8)
            for (int l = 0; l < 8; l++) a[l] += x[j + l] - s;
        for (; j < end; j++) a[0] += x[j] - s;
        acc += (double)(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])));
    }
    return acc;
}

/* sums of d and d*d over len floats, d = x - m */
static inline void sum_dev(ptrdiff_t len, const float *x, float m, double *D, double *Q) {
    double dd = 0.0, qq = 0.0;
    for (ptrdiff_t i = 0; i < len; i += 256) {
        ptrdiff_t end = len - i < 256 ? len : i + 256, j = i;
        float a[8] = {0}, q[8] = {0};
        for (; j + 8 <= end; j += 8)
            for (int l = 0; l < 8; l++) {
                float d = x[j + l] - m;
                a[l] += d;
                q[l] += d * d;
            }
        for (; j < end; j++) {
            float d = x[j] - m;
            a[0] += d;
            q[0] += d * d;
        }
        dd += (double)(((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7])));
        qq += (double)(((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7])));
    }
    *D = dd;
    *Q = qq;
}

kl_status kl_ln_row_scalar(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                      float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream) {
    (void)stream; /* portable C has no non-temporal store */
    /* BEGIN SOLUTION */
    kl_ln_acc acc = {0.0, 0.0, 0.0};
    for (ptrdiff_t c0 = 0; c0 < cols; c0 += chunk) {
        ptrdiff_t len = cols - c0 < chunk ? cols - c0 : chunk;
        const float *xc = x + c0;
        double mc = xc[0] + sum_shifted(len, xc, xc[0]) / (double)len, D, Q;
        sum_dev(len, xc, (float)mc, &D, &Q);
        /* (float)mc is rounded: the D terms correct for it (corrected two-pass) */
        kl_ln_merge(&acc, (double)len, (float)mc + D / (double)len, Q - D * D / (double)len);
    }
    float m, r;
    if (!kl_ln_finish(&acc, eps, &m, &r)) {
        kl_ln_row_exact(cols, x, g, b, eps, y, mean, rstd);
        return KL_OK;
    }
    for (ptrdiff_t c = 0; c < cols; c++) y[c] = (x[c] - m) * r * g[c] + b[c];
    *mean = m;
    *rstd = r;
    return KL_OK;
    /* END SOLUTION */
}

size_t kl_layernorm_blocked_blocking(ptrdiff_t *sizes, size_t cap) {
    if (cap >= 1) sizes[0] = kl_ln_chunk();
    return 1;
}

kl_status kl_ln_rows_scalar(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                            const float *b, float eps, float *y, float *mean, float *rstd,
                            ptrdiff_t chunk, int stream) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        float m, s; /* mean/rstd may be NULL: write through locals */
        kl_status st = kl_ln_row_scalar(cols, x + r * cols, g, b, eps, y + r * cols, &m, &s, chunk, stream);
        if (st != KL_OK) return st;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    return KL_OK;
}

kl_status kl_layernorm_blocked(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                               const float *beta, float eps, float *y, float *mean, float *rstd) {
    return kl_ln_rows_scalar(rows, cols, x, gamma, beta, eps, y, mean, rstd, kl_ln_chunk(), 0);
}
