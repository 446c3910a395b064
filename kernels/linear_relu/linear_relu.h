/* linear_relu, C[m][n] = relu(A[m][k] . B[k][n] + bias[n]): its rungs and the pieces they
 * share. Raw kernels: arguments already checked (variants.h), k >= 1 (validate.c handles k == 0
 * with kl_bias_relu). */
#ifndef KL_LINEAR_RELU_H
#define KL_LINEAR_RELU_H

#include "variants.h"

#define KL_DECLARE_LINEAR_RELU(fn)                                                           \
    kl_status fn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,       \
                 const float *B, ptrdiff_t ldb, const float *bias, float *C, ptrdiff_t ldc)

KL_DECLARE_LINEAR_RELU(kl_linear_relu_unfused);
KL_DECLARE_LINEAR_RELU(kl_linear_relu_fused);
size_t kl_linear_relu_fused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_linear_relu_fused_blocking(ptrdiff_t *sizes, size_t cap);
size_t kl_linear_relu_unfused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_linear_relu_unfused_blocking(ptrdiff_t *sizes, size_t cap);
/* The ISA each rung runs on this CPU: unfused that of the best matmul, fused that of matmul's
 * dispatch table (its micro-kernel; the epilogue is AVX2). */
kl_isa kl_linear_relu_unfused_isa(void);

/* Helpers (common.c). C[m][n] = relu(C + bias[j]) in place (bias NULL: relu only; NaN
 * propagates): the unfused rung's second pass. */
void kl_bias_relu_inplace(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc);
/* C[m][n] = relu(bias[j]), or 0 with bias NULL, without reading C: k == 0 (validate.c). */
void kl_bias_relu(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc);
/* Threads the fused rung runs m x n x k on (threads <= 0: kl_threads()). */
int kl_linear_relu_fused_threads(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);

#endif
