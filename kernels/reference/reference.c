#include "reference.h"

#include <math.h>
#include <stdlib.h>

#define U32 (1.0 / 16777216.0) /* float32 unit roundoff, 2^-24 */

/* Row i of A.B and of |A||B|, added into sum[n] and mag[n] (mag may be NULL). i-p-j order:
 * B is read a row at a time, contiguously (a j-p walk down its columns misses cache on every
 * element once B passes L1), and each sum[j] still adds its terms in p order, as a dot
 * product would. (double)a * b is exact: two 24-bit significands. */
static void ref_row(ptrdiff_t n, ptrdiff_t k, const float *a_row, const float *B, ptrdiff_t ldb,
                    double *restrict sum, double *restrict mag) {
    for (ptrdiff_t p = 0; p < k; p++) {
        const double a = a_row[p];
        const float *restrict b = B + p * ldb;
        if (mag)
            for (ptrdiff_t j = 0; j < n; j++) {
                double t = a * b[j];
                sum[j] += t;
                mag[j] += fabs(t);
            }
        else
            for (ptrdiff_t j = 0; j < n; j++) sum[j] += a * b[j];
    }
}

void kl_ref_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const float *A,
                   ptrdiff_t lda, const float *B, ptrdiff_t ldb, double beta, const float *C0,
                   ptrdiff_t ldc, double *out) {
    for (ptrdiff_t i = 0; i < m; i++) {
        double *row = out + i * n;
        for (ptrdiff_t j = 0; j < n; j++) row[j] = 0.0;
        if (alpha != 0.0) ref_row(n, k, A + i * lda, B, ldb, row, NULL);
        for (ptrdiff_t j = 0; j < n; j++) {
            double c = alpha * row[j];
            if (beta != 0.0) c += beta * C0[i * ldc + j];
            row[j] = c;
        }
    }
}

void kl_ref_linear(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                   const float *B, ptrdiff_t ldb, const float *bias, double *out) {
    for (ptrdiff_t i = 0; i < m; i++) {
        double *row = out + i * n;
        for (ptrdiff_t j = 0; j < n; j++) row[j] = bias ? (double)bias[j] : 0.0;
        ref_row(n, k, A + i * lda, B, ldb, row, NULL);
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
    double *sum = malloc(sizeof(double) * 2 * (size_t)n); /* one row: sum[n], then mag[n] */
    if (!sum) return INFINITY;
    double *mag = sum + n;
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) sum[j] = mag[j] = 0.0;
        if (alpha != 0.0f) ref_row(n, k, A + i * lda, B, ldb, sum, mag);
        for (ptrdiff_t j = 0; j < n; j++) {
            double want = (double)alpha * sum[j], tol_mag = fabs((double)alpha) * mag[j];
            if (beta != 0.0f) {
                want += (double)beta * C0[i * ldc + j];
                tol_mag += fabs((double)beta * C0[i * ldc + j]);
            }
            double tol = 2.0 * (double)(k + 2) * U32 * tol_mag + 1e-30; /* 1e-30: underflow floor */
            keep_worst(ratio(C1[i * ldc + j], want, tol), i * ldc + j, &worst, where);
        }
    }
    free(sum);
    return worst;
}

double kl_check_linear_relu(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                            const float *B, ptrdiff_t ldb, const float *bias, const float *C,
                            ptrdiff_t ldc, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (m <= 0 || n <= 0) return worst;
    double *sum = malloc(sizeof(double) * 2 * (size_t)n); /* one row: sum[n], then mag[n] */
    if (!sum) return INFINITY;
    double *mag = sum + n;
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            sum[j] = bias ? (double)bias[j] : 0.0;
            mag[j] = fabs(sum[j]);
        }
        ref_row(n, k, A + i * lda, B, ldb, sum, mag);
        for (ptrdiff_t j = 0; j < n; j++) {
            double tol = 2.0 * (double)(k + 2) * U32 * mag[j] + 1e-30, want = sum[j];
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
    }
    free(sum);
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

/* ---- training ops ---- */

static double op_elem(const float *X, ptrdiff_t ld, int trans, ptrdiff_t r, ptrdiff_t c) {
    return trans ? (double)X[c * ld + r] : (double)X[r * ld + c];
}

double kl_check_matmul_t(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                         float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                         float beta, const float *C0, const float *C1, ptrdiff_t ldc,
                         ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            double sum = 0.0, mag = 0.0;
            if (alpha != 0.0f)
                for (ptrdiff_t p = 0; p < k; p++) {
                    double t = op_elem(A, lda, trans_a, i, p) * op_elem(B, ldb, trans_b, p, j);
                    sum += t;
                    mag += fabs(t);
                }
            double want = (double)alpha * sum, c0 = beta != 0.0f ? C0[i * ldc + j] : 0.0;
            if (beta != 0.0f) want += (double)beta * c0;
            double tol = 2.0 * (double)(k + 2) * U32 * (fabs((double)alpha) * mag + fabs(beta * c0)) + 1e-30;
            keep_worst(ratio(C1[i * ldc + j], want, tol), i * ldc + j, &worst, where);
        }
    return worst;
}

double kl_check_relu_backward(ptrdiff_t n, const float *y, const float *dy, const float *dx,
                              ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    for (ptrdiff_t i = 0; i < n; i++) {
        double want = isnan(y[i]) ? NAN : y[i] > 0 ? (double)dy[i] : 0.0;
        keep_worst(ratio(dx[i], want, 0.0), i, &worst, where);
    }
    return worst;
}

void kl_ref_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                               const float *mean, const float *rstd, const float *dy, double *dx,
                               double *dgamma, double *dbeta) {
    for (ptrdiff_t c = 0; c < cols; c++) dgamma[c] = dbeta[c] = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        double mu = mean[r], s = rstd[r], sg = 0.0, sgx = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            double xh = (xr[c] - mu) * s, g = (double)gamma[c] * dyr[c];
            sg += g;
            sgx += g * xh;
        }
        for (ptrdiff_t c = 0; c < cols; c++) {
            double xh = (xr[c] - mu) * s;
            dx[r * cols + c] = s * ((double)gamma[c] * dyr[c] - sg / cols - xh * sgx / cols);
            dgamma[c] += dyr[c] * xh;
            dbeta[c] += dyr[c];
        }
    }
}

/* dx relative to its row's scale: 16 (cols + 4) u rstd (|g| + mean|g| + |xhat| mean|g xhat|
 * + |x - mean| rstd mean|g|): each mean is a float sum of cols terms, and xhat itself is
 * rounded twice. dgamma, dbeta: 4 (rows + 4) u sum_r |terms|. */
double kl_check_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                   const float *gamma, const float *mean, const float *rstd,
                                   const float *dy, const float *dx, const float *dgamma,
                                   const float *dbeta, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (rows <= 0 || cols <= 0) return worst;
    size_t nx = (size_t)rows * (size_t)cols;
    double *rdx = malloc(sizeof(double) * (nx + 4 * (size_t)cols));
    if (!rdx) return INFINITY;
    double *rdg = rdx + nx, *rdb = rdg + cols, *mg = rdb + cols, *mb = mg + cols;
    kl_ref_layernorm_backward(rows, cols, x, gamma, mean, rstd, dy, rdx, rdg, rdb);
    for (ptrdiff_t c = 0; c < cols; c++) mg[c] = mb[c] = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        double mu = mean[r], s = rstd[r], ag = 0.0, agx = 0.0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            double xh = (xr[c] - mu) * s, g = fabs((double)gamma[c] * dyr[c]);
            ag += g;
            agx += g * fabs(xh);
            mg[c] += fabs(dyr[c] * xh);
            mb[c] += fabs((double)dyr[c]);
        }
        ag /= cols, agx /= cols;
        for (ptrdiff_t c = 0; c < cols; c++) {
            double xh = fabs((xr[c] - mu) * s);
            double tol = 16.0 * (double)(cols + 4) * U32 * fabs(s) *
                             (fabs((double)gamma[c] * dyr[c]) + ag + xh * agx + xh * ag) + 1e-30;
            keep_worst(ratio(dx[r * cols + c], rdx[r * cols + c], tol), r * cols + c, &worst, where);
        }
    }
    for (ptrdiff_t c = 0; c < cols; c++) {
        if (dgamma) keep_worst(ratio(dgamma[c], rdg[c], 4.0 * (rows + 4) * U32 * mg[c] + 1e-30), nx + c, &worst, where);
        if (dbeta) keep_worst(ratio(dbeta[c], rdb[c], 4.0 * (rows + 4) * U32 * mb[c] + 1e-30), nx + cols + c, &worst, where);
    }
    free(rdx);
    return worst;
}

double kl_check_bias_backward(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                              const float *db, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    for (ptrdiff_t c = 0; c < cols; c++) {
        double sum = 0.0, mag = 0.0;
        for (ptrdiff_t r = 0; r < rows; r++) sum += dy[r * ldy + c], mag += fabs((double)dy[r * ldy + c]);
        keep_worst(ratio(db[c], sum, 2.0 * (rows + 2) * U32 * mag + 1e-30), c, &worst, where);
    }
    return worst;
}

double kl_ref_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *z, const int *labels,
                           double *dz) {
    double total = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *zr = z + r * cols;
        double mx = -INFINITY, sum = 0.0;
        int nan = 0;
        for (ptrdiff_t c = 0; c < cols; c++) {
            nan |= isnan(zr[c]) || (isinf(zr[c]) && zr[c] > 0);
            if (zr[c] > mx) mx = zr[c];
        }
        for (ptrdiff_t c = 0; c < cols; c++) sum += exp(zr[c] - mx);
        total += nan ? NAN : mx + log(sum) - zr[labels[r]];
        for (ptrdiff_t c = 0; dz && c < cols; c++)
            dz[r * cols + c] = nan ? NAN : (exp(zr[c] - mx) / sum - (c == labels[r])) / rows;
    }
    return rows ? total / rows : 0.0;
}

/* Each probability carries a few ulp from exp and the row sum (8 (cols + 4) u relative to
 * the row's largest term, 1/rows); the loss ~8 (cols + 4) u (1 + |logsumexp|) per row. */
double kl_check_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *z, const int *labels,
                             float loss, const float *dz, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    if (rows <= 0) return loss == 0.0f ? 0.0 : INFINITY;
    double *rdz = malloc(sizeof(double) * (size_t)rows * (size_t)cols);
    if (!rdz) return INFINITY;
    double want = kl_ref_softmax_xent(rows, cols, z, labels, rdz), scale = 0.0;
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t c = 0; c < cols; c++) scale = fmax(scale, fabs((double)z[r * cols + c]));
    double tol_d = 8.0 * (cols + 4) * U32 / rows + 1e-30;
    for (ptrdiff_t i = 0; dz && i < rows * cols; i++) keep_worst(ratio(dz[i], rdz[i], tol_d), i, &worst, where);
    keep_worst(ratio(loss, want, 8.0 * (cols + 4) * U32 * (1.0 + scale + fabs(want))), -2, &worst, where);
    free(rdz);
    return worst;
}

double kl_check_sgd_momentum(ptrdiff_t n, float lr, float momentum, float weight_decay,
                             const float *w0, const float *g, const float *v0, const float *w1,
                             const float *v1, ptrdiff_t *where) {
    double worst = 0.0;
    if (where) *where = -1;
    for (ptrdiff_t i = 0; i < n; i++) {
        double d = g[i] + (double)weight_decay * w0[i], v = (double)momentum * v0[i] + d;
        double w = w0[i] - (double)lr * v;
        double vmag = fabs(g[i]) + fabs((double)weight_decay * w0[i]) + fabs((double)momentum * v0[i]);
        double tv = 4.0 * U32 * vmag + 1e-30, tw = 4.0 * U32 * (fabs(w0[i]) + fabs(lr) * vmag) + 1e-30;
        keep_worst(ratio(v1[i], v, tv), i, &worst, where);
        keep_worst(ratio(w1[i], w, tw), n + i, &worst, where);
    }
    return worst;
}
