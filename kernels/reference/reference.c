#include "reference.h"

#include <math.h>
#include <stdlib.h>

#define U32 (1.0 / 16777216.0) /* float32 unit roundoff, 2^-24 */

void kl_ref_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const float *A,
                   ptrdiff_t lda, const float *B, ptrdiff_t ldb, double beta, const float *C0,
                   ptrdiff_t ldc, double *out) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double sum = 0.0;
            if (alpha != 0.0)
                for (ptrdiff_t p = 0; p < k; p++) sum += (double)A[i * lda + p] * B[p * ldb + j];
            double c = alpha * sum;
            if (beta != 0.0) c += beta * C0[i * ldc + j];
            out[i * n + j] = c;
        }
}

void kl_ref_linear(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                   const float *B, ptrdiff_t ldb, const float *bias, double *out) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double sum = bias ? (double)bias[j] : 0.0;
            for (ptrdiff_t p = 0; p < k; p++) sum += (double)A[i * lda + p] * B[p * ldb + j];
            out[i * n + j] = sum;
        }
}

void kl_ref_relu(ptrdiff_t n, const float *x, double *y) {
    for (ptrdiff_t i = 0; i < n; i++) y[i] = isnan(x[i]) ? x[i] : x[i] > 0 ? x[i] : 0.0;
}

void kl_ref_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                      const float *beta, double eps, double *y, double *mean, double *rstd) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        double sum = 0.0, sq = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) sum += xr[c];
        double mu = sum / cols;
        for (ptrdiff_t c = 0; c < cols; c++) sq += (xr[c] - mu) * (xr[c] - mu);
        double s = 1.0 / sqrt(sq / cols + eps);
        for (ptrdiff_t c = 0; c < cols; c++)
            y[r * cols + c] = (xr[c] - mu) * s * gamma[c] + beta[c];
        mean[r] = mu;
        rstd[r] = s;
    }
}

/* err / tol, with NaN and Inf required to match exactly. */
static double ratio(double got, double want, double tol) {
    if (isnan(want)) return isnan(got) ? 0.0 : INFINITY;
    if (isinf(want)) return got == want ? 0.0 : INFINITY;
    if (!isfinite(got)) return INFINITY;
    double err = fabs(got - want);
    return err == 0.0 ? 0.0 : tol > 0.0 ? err / tol : INFINITY;
}

static void keep_worst(double r, ptrdiff_t i, double *worst, ptrdiff_t *where) {
    if (r > *worst || (isinf(r) && !isinf(*worst))) {
        *worst = r;
        if (where) *where = i;
    }
}

double kl_check_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                       ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, const float *C0,
                       const float *C1, ptrdiff_t ldc, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (m <= 0 || n <= 0) return worst;
    double *ref = malloc(sizeof(double) * (size_t)m * (size_t)n);
    if (!ref) return INFINITY;
    kl_ref_matmul(m, n, k, alpha, A, lda, B, ldb, beta, C0, ldc, ref);
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double mag = 0.0;
            if (alpha != 0.0f)
                for (ptrdiff_t p = 0; p < k; p++) mag += fabs((double)A[i * lda + p] * B[p * ldb + j]);
            mag = fabs((double)alpha) * mag;
            if (beta != 0.0f) mag += fabs((double)beta * C0[i * ldc + j]);
            double tol = 2.0 * (double)(k + 2) * U32 * mag + 1e-30; /* 1e-30: underflow floor */
            keep_worst(ratio(C1[i * ldc + j], ref[i * n + j], tol), i * ldc + j, &worst, where);
        }
    free(ref);
    return worst;
}

double kl_check_linear_relu(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                            const float *B, ptrdiff_t ldb, const float *bias, const float *C,
                            ptrdiff_t ldc, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (m <= 0 || n <= 0) return worst;
    double *z = malloc(sizeof(double) * (size_t)m * (size_t)n);
    if (!z) return INFINITY;
    kl_ref_linear(m, n, k, A, lda, B, ldb, bias, z);
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double mag = bias ? fabs((double)bias[j]) : 0.0;
            for (ptrdiff_t p = 0; p < k; p++) mag += fabs((double)A[i * lda + p] * B[p * ldb + j]);
            double tol = 2.0 * (double)(k + 2) * U32 * mag + 1e-30, want = z[i * n + j];
            double got = C[i * ldc + j], r;
            if (isnan(want) || isinf(want)) /* NaN stays NaN, +Inf stays, -Inf gives 0 */
                r = ratio(got, want > 0 || isnan(want) ? want : 0.0, 0.0);
            else if (want < -tol) /* clearly negative: exactly zero */
                r = got == 0.0 ? 0.0 : INFINITY;
            else if (want > tol)
                r = ratio(got, want, tol);
            else /* within rounding of zero: either side of the kink */
                r = !(got >= 0.0) ? INFINITY : ratio(got, want > 0 ? want : 0.0, tol);
            keep_worst(r, i * ldc + j, &worst, where);
        }
    free(z);
    return worst;
}

double kl_check_relu(ptrdiff_t n, const float *x, const float *y, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    for (ptrdiff_t i = 0; i < n; i++) {
        double want = isnan(x[i]) ? x[i] : x[i] > 0 ? x[i] : 0.0;
        keep_worst(ratio(y[i], want, 0.0), i, &worst, where);
    }
    return worst;
}

double kl_check_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                          const float *beta, float eps, const float *y, const float *mean,
                          const float *rstd, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (rows <= 0 || cols <= 0) return worst;
    double *ref = malloc(sizeof(double) * ((size_t)rows * (size_t)cols + 2 * (size_t)rows));
    if (!ref) return INFINITY;
    double *mu = ref + rows * cols, *rs = mu + rows;
    kl_ref_layernorm(rows, cols, x, gamma, beta, eps, ref, mu, rs);
    const double K = 64.0 * U32;
    for (ptrdiff_t r = 0; r < rows; r++) {
        double shift = isfinite(mu[r] * rs[r]) ? fabs(mu[r]) * rs[r] : 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            ptrdiff_t i = r * cols + c;
            double xhat = (x[i] - mu[r]) * rs[r];
            double tol = K * (fabs(gamma[c]) * (fabs(xhat) + shift + 1.0) + fabs(beta[c]));
            keep_worst(ratio(y[i], ref[i], tol), i, &worst, where);
        }
        /* mean to within K of its scale (|mean| + std); rstd relatively */
        if (mean) keep_worst(ratio(mean[r], mu[r], K * (fabs(mu[r]) + 1.0 / rs[r])), r, &worst, where);
        if (rstd) keep_worst(ratio(rstd[r], rs[r], K * rs[r]), r, &worst, where);
    }
    free(ref);
    return worst;
}
