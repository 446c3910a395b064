/* Helpers shared by the linear_relu rungs and validate.c, compiled without SIMD flags. */
#include "linear_relu.h"
#include "matmul/gemm.h"

static float relu1(float x) { return x < 0.0f ? 0.0f : x; } /* NaN fails the compare: kept */

/* gcc's -O2 cost model ("very cheap") leaves this loop scalar (its trip count needs a vector
 * epilogue): a compare and a branch per float, mispredicted on random signs, so the pass costs
 * several times what its memory traffic should. The baseline must be a fair one: let gcc
 * vectorize it (maxps-like select; NaN still propagates). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("vect-cost-model=dynamic")))
#endif
void kl_bias_relu_inplace(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        if (bias)
            for (ptrdiff_t j = 0; j < n; j++) c[j] = relu1(c[j] + bias[j]);
        else
            for (ptrdiff_t j = 0; j < n; j++) c[j] = relu1(c[j]);
    }
}

void kl_bias_relu(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) C[i * ldc + j] = bias ? relu1(bias[j]) : 0.0f;
}

kl_isa kl_linear_relu_unfused_isa(void) {
    return kl_variant_isa(kl_best_variant(KL_OP_MATMUL));
}

#ifdef KL_HAVE_SIMD
/* The fused rung runs the openmp rung's packed driver and micro-kernel (always packed: the
 * epilogue lives in the driver), on kl_threads() threads when built with OpenMP, except below
 * 2 * 64^3 flops, where waking the team costs more than the work (kl_matmul_team_pays, the
 * openmp rung's rule). */
int kl_linear_relu_fused_threads(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
#ifdef _OPENMP
    if (!kl_matmul_team_pays(m, n, k)) return 1;
    return threads > 0 ? threads : kl_threads();
#else
    (void)m, (void)n, (void)k, (void)threads;
    return 1;
#endif
}

size_t kl_linear_relu_fused_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    return kl_gemm_scratch(kl_gemm_openmp_kernel(), m, n, k,
                           kl_linear_relu_fused_threads(m, n, k, threads));
}

size_t kl_linear_relu_fused_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_gemm_blocking_list(kl_gemm_openmp_kernel(), sizes, cap);
}
#endif
