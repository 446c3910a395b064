/* Internal: the raw kernels the registry points at, and helpers they share.
 * Raw kernels may assume their arguments were checked by validate.c:
 * sizes >= 0, pointers non-NULL when a size is nonzero, ld >= row length, no bad alias. */
#ifndef KL_VARIANTS_H
#define KL_VARIANTS_H

#include "kernellab.h"

/* Tuning knobs (tuning.c). kl_env_size: env `name` as a whole number >= 0, else -1; read once
 * into *cache, which starts at -2. kl_stream_min_default: floats from which an out-of-place
 * call on `threads` threads streams y (the rule and its measurements are in tuning.c). */
ptrdiff_t kl_env_size(const char *name, volatile ptrdiff_t *cache);
ptrdiff_t kl_stream_min_default(int threads);

/* One declaration line per variant; the registry table says where each lives. */
#define KL_DECLARE_MATMUL(fn)                                                                \
    kl_status fn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,         \
                 ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,          \
                 ptrdiff_t ldc)
#define KL_DECLARE_RELU(fn) kl_status fn(ptrdiff_t n, const float *x, float *y)
#define KL_DECLARE_LAYERNORM(fn)                                                             \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,        \
                 const float *beta, float eps, float *y, float *mean, float *rstd)

KL_DECLARE_MATMUL(kl_matmul_naive);
KL_DECLARE_MATMUL(kl_matmul_interchange);
KL_DECLARE_MATMUL(kl_matmul_blocked);
size_t kl_matmul_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* MB, KB, NB */
KL_DECLARE_RELU(kl_relu_naive);
KL_DECLARE_RELU(kl_relu_blocked);
size_t kl_relu_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* strip length */
KL_DECLARE_RELU(kl_relu_avx2);
KL_DECLARE_RELU(kl_relu_avx512);
KL_DECLARE_RELU(kl_relu_openmp);
/* ReLU helpers shared between rungs (relu/blocked.c, avx2.c, avx512.c, openmp.c):
 * span kernels (stream: non-temporal stores for y, only when y != x), the strip length,
 * the out-of-place size from which y is streamed, and the size from which openmp threads. */
kl_status kl_relu_span_avx2(ptrdiff_t n, const float *x, float *y, int stream);
kl_status kl_relu_span_avx512(ptrdiff_t n, const float *x, float *y, int stream);
ptrdiff_t kl_relu_strip(void);
ptrdiff_t kl_relu_stream_min(int threads); /* floats from which y is streamed */
ptrdiff_t kl_relu_omp_min(void);
KL_DECLARE_LAYERNORM(kl_layernorm_naive);
KL_DECLARE_LAYERNORM(kl_layernorm_welford);
KL_DECLARE_LAYERNORM(kl_layernorm_blocked);
size_t kl_layernorm_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* stats chunk (floats) */
KL_DECLARE_LAYERNORM(kl_layernorm_avx2);
KL_DECLARE_LAYERNORM(kl_layernorm_avx512);
KL_DECLARE_LAYERNORM(kl_layernorm_openmp);
ptrdiff_t kl_layernorm_omp_min(void); /* floats from which layernorm/openmp threads */

#define KL_DECLARE_LINEAR_RELU(fn)                                                           \
    kl_status fn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,       \
                 const float *B, ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc)
KL_DECLARE_LINEAR_RELU(kl_linear_relu_unfused);
KL_DECLARE_LINEAR_RELU(kl_linear_relu_fused);
size_t kl_linear_relu_fused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_linear_relu_fused_blocking(ptrdiff_t *sizes, size_t cap);
size_t kl_linear_relu_unfused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_linear_relu_unfused_blocking(ptrdiff_t *sizes, size_t cap);
/* linear_relu helpers (linear_relu/common.c). C[m][n] = relu(C + bias[j]) in place (bias
 * NULL: relu only; NaN propagates): the unfused rung's second pass. */
void kl_bias_relu_inplace(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc);
/* C[m][n] = relu(bias[j]), or 0 with bias NULL, without reading C: k == 0 (validate.c). */
void kl_bias_relu(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc);
/* Threads the fused rung runs m x n x k on (threads <= 0: kl_threads()). */
int kl_linear_relu_fused_threads(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);

/* ---- training ops: backward passes, the loss, the optimizer step ---- */
#define KL_DECLARE_MATMUL_T(fn)                                                              \
    kl_status fn(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, \
                 const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,    \
                 float *C, ptrdiff_t ldc)
#define KL_DECLARE_RELU_BACKWARD(fn) \
    kl_status fn(ptrdiff_t n, const float *y, const float *dy, float *dx)
#define KL_DECLARE_LAYERNORM_BACKWARD(fn)                                                    \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,         \
                 const float *mean, const float *rstd, const float *dy, float *dx,            \
                 float *dgamma, float *dbeta)
#define KL_DECLARE_BIAS_BACKWARD(fn) \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy, float *db)
#define KL_DECLARE_SOFTMAX_XENT(fn)                                                          \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *logits, const int *labels,     \
                 float *loss, float *dlogits)
#define KL_DECLARE_SGD_MOMENTUM(fn)                                                          \
    kl_status fn(ptrdiff_t n, float lr, float momentum, float weight_decay, float *w,        \
                 const float *g, float *v)

KL_DECLARE_MATMUL_T(kl_matmul_t_naive);
KL_DECLARE_MATMUL_T(kl_matmul_t_avx2);   /* matmul_t/packed.c: the packed driver, one thread */
KL_DECLARE_MATMUL_T(kl_matmul_t_avx512);
KL_DECLARE_MATMUL_T(kl_matmul_t_openmp);
size_t kl_matmul_t_avx2_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_t_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_t_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);

KL_DECLARE_RELU_BACKWARD(kl_relu_backward_naive);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_avx2);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_avx512);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_openmp);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_span_avx2);   /* the openmp rung's spans */
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_span_avx512);

KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_naive);
KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_avx2);
KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_openmp);
size_t kl_layernorm_backward_openmp_scratch(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t unused,
                                            int threads);
/* Rows [r0, r1) of the AVX2 rung; dgamma, dbeta (may be NULL) are added to. */
void kl_layernorm_backward_rows_avx2(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t cols, const float *x,
                                     const float *gamma, const float *mean, const float *rstd,
                                     const float *dy, float *dx, float *dgamma, float *dbeta);

KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_naive);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_avx2);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_openmp);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_span_avx2);

KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_naive);
KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_avx2);
KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_openmp);
/* One row's loss; its gradient times scale into d unless NULL (naive.c, avx2.c). */
float kl_softmax_xent_row(ptrdiff_t cols, const float *z, int label, float scale, float *d);
float kl_softmax_xent_row_avx2(ptrdiff_t cols, const float *z, int label, float scale, float *d);

KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_naive);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_avx2);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_openmp);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_span_avx2);

/* C = beta*C over an m x n tile (beta == 0 writes zeros without reading C). Used when
 * alpha == 0 or k == 0, and by kernels that scale C once before accumulating. */
void kl_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *C, ptrdiff_t ldc);

/* Threads an OpenMP variant should use right now (>= 1). */
int kl_threads(void);

#endif
