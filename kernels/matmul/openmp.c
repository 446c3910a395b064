/* Rung 6: the SIMD rung on every core. The five-loop driver (gemm.c) runs an OpenMP team that
 * packs the shared B panel together and splits the MC blocks of A (the 3rd loop) between
 * threads; gemm.c says why that loop. Uses the AVX-512 micro-kernel when the CPU has it,
 * else AVX2. Small problems run the single-threaded direct path: a team costs more than the
 * whole multiply there. */
#include "gemm.h"

static int use_avx512(void) { return kl_cpu_isa() >= KL_ISA_AVX512; }

static const kl_gemm_kernel *kernel(void) {
    return use_avx512() ? &kl_gemm_avx512_kernel : &kl_gemm_avx2_kernel;
}

static int small(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return use_avx512() ? kl_matmul_avx512_small(m, n, k) : kl_matmul_avx2_small(m, n, k);
}

kl_status kl_matmul_openmp(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    if (small(m, n, k))
        return use_avx512() ? kl_matmul_avx512_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
                            : kl_matmul_avx2_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return kl_gemm(kernel(), kl_threads(), m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    /* END SOLUTION */
}

/* (T * MCe * KCe + KCe * NCe) * 4 bytes, each buffer rounded up to 64 (see gemm.h). */
size_t kl_matmul_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    return small(m, n, k) ? 0 : kl_gemm_scratch(kernel(), m, n, k, threads > 0 ? threads : kl_threads());
}

size_t kl_matmul_openmp_blocking(ptrdiff_t *sizes, size_t cap) {
    const kl_gemm_kernel *uk = kernel();
    return kl_mm_blocking_list(uk->mr, uk->nr, sizes, cap);
}
