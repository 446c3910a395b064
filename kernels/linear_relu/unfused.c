/* linear_relu, unfused: the baseline the fused rung is measured against. The best available
 * matmul writes C = A.B (all of C goes out to memory once m x n outgrows the caches), then a
 * second pass reads C back, adds the bias, applies ReLU and writes it again. Given, not an
 * exercise: lesson 02 measures the fused rung against it. */
#include "linear_relu.h"

static const kl_variant *best_matmul(void) { return kl_best_variant(KL_OP_MATMUL); }

kl_status kl_linear_relu_unfused(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A,
                                 ptrdiff_t lda, const float *B, ptrdiff_t ldb, const float *bias,
                                 float *C, ptrdiff_t ldc) {
    kl_status s = best_matmul()->fn.matmul(m, n, k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc);
    if (s != KL_OK) return s;
    kl_bias_relu_inplace(m, n, bias, C, ldc);
    return KL_OK;
}

/* Whatever the matmul it calls allocates and tiles. */
size_t kl_linear_relu_unfused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    const kl_variant *v = best_matmul();
    return v->scratch_bytes ? v->scratch_bytes(m, n, k, threads) : 0;
}

size_t kl_linear_relu_unfused_blocking(ptrdiff_t *sizes, size_t cap) {
    const kl_variant *v = best_matmul();
    return v->blocking ? v->blocking(sizes, cap) : 0;
}
