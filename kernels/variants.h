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
/* Bytes of traffic from which a bandwidth-bound kernel on `threads` threads beats one thread:
 * this machine's team wake-up time x its one-thread copy rate x t / (t - 1), measured once per
 * process, clamped to [L1, t x L2] (SIZE_MAX for one thread). The rule alone, for tests:
 * kl_team_min_bytes_rule. */
size_t kl_team_min_bytes(int threads);
size_t kl_team_min_bytes_rule(double wake_s, double copy_bytes_per_s, int threads, size_t l1,
                              size_t l2);

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
ptrdiff_t kl_relu_omp_min(int threads);
KL_DECLARE_LAYERNORM(kl_layernorm_naive);
KL_DECLARE_LAYERNORM(kl_layernorm_welford);
KL_DECLARE_LAYERNORM(kl_layernorm_blocked);
size_t kl_layernorm_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* stats chunk (floats) */
KL_DECLARE_LAYERNORM(kl_layernorm_avx2);
KL_DECLARE_LAYERNORM(kl_layernorm_avx512);
KL_DECLARE_LAYERNORM(kl_layernorm_openmp);
ptrdiff_t kl_layernorm_omp_min(int threads); /* floats from which layernorm/openmp threads */

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

/* C = beta*C over an m x n tile (beta == 0 writes zeros without reading C). Used when
 * alpha == 0 or k == 0, and by kernels that scale C once before accumulating. */
void kl_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *C, ptrdiff_t ldc);

/* Threads an OpenMP variant should use right now (>= 1). */
int kl_threads(void);

#endif
