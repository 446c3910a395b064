/* float64 oracles and the error rules every variant is held to. Used by tests, the
 * benchmark harness (check before timing) and the lessons; not part of the public API.
 * Each check returns the worst error as a fraction of its tolerance: <= 1 passes,
 * INFINITY means a NaN/Inf mismatch. *where gets the flat index of the worst element. */
#ifndef KL_REFERENCE_H
#define KL_REFERENCE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[m][n] (contiguous, ld n) = alpha * A.B + beta * C0, in double; beta == 0 ignores C0. */
void kl_ref_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, double alpha, const float *A,
                   ptrdiff_t lda, const float *B, ptrdiff_t ldb, double beta, const float *C0,
                   ptrdiff_t ldc, double *out);
void kl_ref_relu(ptrdiff_t n, const float *x, double *y);
/* y[rows][cols], mean[rows], rstd[rows], all in double. */
void kl_ref_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                      const float *beta, double eps, double *y, double *mean, double *rstd);

/* out[m][n] (contiguous) = A.B + bias[j] in double: the pre-activation (bias NULL: none). */
void kl_ref_linear(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                   const float *B, ptrdiff_t ldb, const float *bias, double *out);

/* Matmul: |C - ref| <= 2 (k + 2) u (|alpha| (|A||B|)ij + |beta| |C0ij|), u = 2^-24
 * (the classic k·u bound on a dot product, doubled for blocked summation orders).
 * C0 is C before the call (with ldc), C1 after. */
double kl_check_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                       ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, const float *C0,
                       const float *C1, ptrdiff_t ldc, ptrdiff_t *where);
/* linear_relu: z = A.B + bias (double) and tol = matmul's bound on z, 2 (k + 2) u (|A||B| + |bias|).
 * z > tol: |C - z| <= tol; z < -tol (clearly negative): C == 0 exactly; in between: C in
 * [0, z + tol]. NaN in z must give NaN, +Inf must give +Inf, -Inf must give 0. */
double kl_check_linear_relu(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                            const float *B, ptrdiff_t ldb, const float *bias, const float *C,
                            ptrdiff_t ldc, ptrdiff_t *where);
/* ReLU is exact: y == max(x, 0) with NaN propagated; +0 and -0 compare equal. */
double kl_check_relu(ptrdiff_t n, const float *x, const float *y, ptrdiff_t *where);
/* LayerNorm, relative to its row's scale: |y - ref| <= 64 u (|gamma| (|xhat| + |mean| rstd + 1)
 * + |beta|). The |mean| rstd term is the float rounding of the mean itself, which no float32
 * kernel can avoid; a cancelling E[x^2] - E[x]^2 variance is off by far more.
 * mean and rstd are checked when non-NULL. */
double kl_check_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                          const float *beta, float eps, const float *y, const float *mean,
                          const float *rstd, ptrdiff_t *where);

/* ---- training ops (kernellab.h states each formula; tolerances as above) ---- */
/* matmul_t: matmul's bound, with op(A), op(B) read through the transpose flags. */
double kl_check_matmul_t(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                         float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                         float beta, const float *C0, const float *C1, ptrdiff_t ldc,
                         ptrdiff_t *where);
/* relu_backward is exact (a select): dx == (y > 0 ? dy : 0), NaN where y is NaN. */
double kl_check_relu_backward(ptrdiff_t n, const float *y, const float *dy, const float *dx,
                              ptrdiff_t *where);
/* dx[rows][cols], dgamma[cols], dbeta[cols] in double, from the given mean and rstd. */
void kl_ref_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                               const float *mean, const float *rstd, const float *dy, double *dx,
                               double *dgamma, double *dbeta);
/* dgamma, dbeta are checked when non-NULL; where >= rows*cols points into them. */
double kl_check_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                   const float *gamma, const float *mean, const float *rstd,
                                   const float *dy, const float *dx, const float *dgamma,
                                   const float *dbeta, ptrdiff_t *where);
double kl_check_bias_backward(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                              const float *db, ptrdiff_t *where);
/* Returns the mean loss in double; dz[rows][cols] (if not NULL) gets its gradient. */
double kl_ref_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *z, const int *labels,
                           double *dz);
/* dz may be NULL (forward only); where == -2 points at the loss. */
double kl_check_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *z, const int *labels,
                             float loss, const float *dz, ptrdiff_t *where);
/* w0, v0 before the step; w1, v1 after. where >= n points into w. */
double kl_check_sgd_momentum(ptrdiff_t n, float lr, float momentum, float weight_decay,
                             const float *w0, const float *g, const float *v0, const float *w1,
                             const float *v1, ptrdiff_t *where);

#ifdef __cplusplus
}
#endif
#endif
