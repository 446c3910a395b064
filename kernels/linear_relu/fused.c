/* linear_relu, fused: the packed driver of the matmul ladder with a bias + ReLU epilogue
 * applied to each MR x NR tile of C as it is written back on the last KC block, while the tile
 * is still in L1. Unfused, C[m][n] makes a second round trip to memory (read + write 8mn bytes)
 * once it no longer fits in cache; fused, it is written once, final. Threads: the openmp rung's
 * path (its micro-kernel, kl_threads() threads from 2 * 64^3 flops (kl_matmul_team_pays), split
 * by MC blocks: each tile belongs to one thread, so the epilogue needs no locks). */
#include "linear_relu.h"
#include "matmul/gemm.h"

#include <immintrin.h>

/* c[mr][nr] = relu(c + bias[col..]) in place. max(0, x) returns x when x is NaN (maxps
 * returns its second operand on NaN), so NaN propagates; -Inf gives 0. */
static void bias_relu_tile(const kl_gemm_epilogue *ep, float *c, ptrdiff_t ldc, ptrdiff_t col,
                           ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    const float *bias = ep->bias ? ep->bias + col : NULL;
    const __m256 zero = _mm256_setzero_ps();
    for (ptrdiff_t i = 0; i < mr; i++) {
        float *r = c + i * ldc;
        ptrdiff_t j = 0;
        for (; j + 8 <= nr; j += 8) {
            __m256 x = _mm256_loadu_ps(r + j);
            if (bias) x = _mm256_add_ps(x, _mm256_loadu_ps(bias + j));
            _mm256_storeu_ps(r + j, _mm256_max_ps(zero, x));
        }
        for (; j < nr; j++) {
            float x = bias ? r[j] + bias[j] : r[j];
            r[j] = x < 0.0f ? 0.0f : x;
        }
    }
    /* END SOLUTION */
}

kl_status kl_linear_relu_fused(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A,
                               ptrdiff_t lda, const float *B, ptrdiff_t ldb, const float *bias,
                               float *C, ptrdiff_t ldc) {
    const kl_gemm_epilogue ep = {bias_relu_tile, bias};
    /* BEGIN SOLUTION */
    /* beta = 0: C is not read; the epilogue turns A.B into relu(A.B + bias) tile by tile. */
    return kl_gemm_ep(kl_gemm_openmp_kernel(), kl_linear_relu_fused_threads(m, n, k, 0), m, n,
                      k, 1.0f, A, lda, B, ldb, 0.0f, C, ldc, &ep);
    /* END SOLUTION */
}
