/* Rungs 2-3: the forward matmul's packed five-loop driver (kernels/matmul/gemm.c) with its
 * AVX2 and AVX-512 micro-kernels, on one thread. A transposed operand costs nothing extra:
 * packing copies every block into the micro-kernel's order anyway, and kl_gemm_pack_at/_bt
 * read the stored transpose instead (for At a micro-panel row is a contiguous run, cheaper
 * than the untransposed gather). Compiled without SIMD flags: it only passes kernel tables. */
#include "../matmul/gemm.h"
#include "matmul_t.h"

#ifdef KL_HAVE_SIMD
kl_status kl_matmul_t_avx2(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                           float alpha, const float *A, ptrdiff_t lda, const float *B,
                           ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    return kl_gemm_t(&kl_gemm_avx2_kernel, 1, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                     beta, C, ldc);
}

kl_status kl_matmul_t_avx512(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             float alpha, const float *A, ptrdiff_t lda, const float *B,
                             ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    return kl_gemm_t(kl_gemm_avx512_kernel(), 1, trans_a, trans_b, m, n, k, alpha, A, lda, B, ldb,
                     beta, C, ldc);
}

/* Where a team does not pay (kl_matmul_team_pays, gemm.h) the openmp rung stays on the calling
 * thread: waking a team costs microseconds, as much as the whole product. */
static int team_threads(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return kl_matmul_team_pays(m, n, k) ? kl_threads() : 1;
}

/* The best micro-kernel this CPU has, on kl_threads() threads splitting the MC blocks. */
kl_status kl_matmul_t_openmp(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             float alpha, const float *A, ptrdiff_t lda, const float *B,
                             ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    return kl_gemm_t(kl_gemm_openmp_kernel(), team_threads(m, n, k), trans_a, trans_b, m, n, k,
                     alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t kl_matmul_t_avx2_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads;
    return kl_gemm_scratch(&kl_gemm_avx2_kernel, m, n, k, 1);
}

size_t kl_matmul_t_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads;
    return kl_gemm_scratch(kl_gemm_avx512_kernel(), m, n, k, 1);
}

size_t kl_matmul_t_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    int t = team_threads(m, n, k);
    if (t > 1 && threads > 0) t = threads;
    return kl_gemm_scratch(kl_gemm_openmp_kernel(), m, n, k, t);
}
#endif
