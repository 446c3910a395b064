/* Rung 4: packed panels and a register-blocked micro-kernel, in plain C.
 * The five-loop driver (gemm.c) packs A and B into the order this kernel reads them; the kernel
 * keeps an MR x NR tile of C in registers for the whole k loop, so each element of A and B
 * loaded from L1/L2 is used NR resp. MR times. MR x NR = 4 x 8: 32 accumulators, which the
 * compiler maps to 8 SSE registers (16 on x86-64) with room left for a row of B and a of A. */
#include "gemm.h"

enum { MR = 4, NR = 8 };

/* c[mr][nr] = alpha * a.b + beta * c.  a[k][MR] and b[k][NR] packed (gemm.h). */
static kl_status ukr_4x8(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                         float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    float ab[MR][NR] = {{0}}; /* the C tile, in registers */
    for (ptrdiff_t p = 0; p < k; p++, a += MR, b += NR)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) ab[i][j] += a[i] * b[j];
    /* Write back only the valid corner: fringe tiles padded with zeros end here. */
    for (ptrdiff_t i = 0; i < mr; i++)
        for (ptrdiff_t j = 0; j < nr; j++) {
            float *cij = &c[i * ldc + j];
            *cij = beta == 0.0f ? alpha * ab[i][j] : alpha * ab[i][j] + beta * *cij;
        }
    return KL_OK;
    /* END SOLUTION */
}

static const kl_gemm_kernel kernel = {MR, NR, ukr_4x8, NULL, NULL};

kl_status kl_matmul_packed(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    return kl_gemm(&kernel, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t kl_matmul_packed_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads; /* single-threaded */
    return kl_gemm_scratch(&kernel, m, n, k, 1);
}

size_t kl_matmul_packed_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_mm_blocking_list(MR, NR, sizes, cap);
}
