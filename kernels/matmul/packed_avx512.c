/* Rung 5 (AVX-512): packed_avx2.c with 16-wide registers; read the two side by side.
 * UNTESTED on the development machine (Zen 3 has no AVX-512): the registry skips it there.
 * Skylake-SP class cores retire two 16-wide FMAs per cycle, 4-cycle latency: >= 8 accumulators.
 * 12 x 32 holds 24 (c[12][2], 16 floats each) + 2 registers for a row of B + 1 broadcast of A
 * = 27 of 32 zmm, leaving room so the compiler never spills. Per k step: 2 loads of B, 12
 * broadcasts of A, 24 FMAs (12 cycles). Fringe tiles use AVX-512 write masks: no bounce buffer.
 *
 * Small problems skip packing (direct path), as in the AVX2 rung. */
#include "gemm.h"

#include <immintrin.h>

enum { MR = 12, NR = 32 };

/* Lanes j < nr of a 32-wide row, as two 16-lane write masks. */
static inline void row_masks(ptrdiff_t nr, __mmask16 *m0, __mmask16 *m1) {
    *m0 = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1);
    *m1 = (__mmask16)(nr >= 32 ? 0xFFFF : nr <= 16 ? 0 : (1u << (nr - 16)) - 1);
}

/* c[mr][nr] = alpha * acc + beta * c for the valid corner; beta == 0 never reads c. */
static inline __attribute__((always_inline)) void store_tile(__m512 acc[MR][2], float alpha,
                                                             float beta, float *c, ptrdiff_t ldc,
                                                             ptrdiff_t mr, ptrdiff_t nr) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    __mmask16 m0, m1;
    row_masks(nr, &m0, &m1);
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        __m512 r0 = _mm512_mul_ps(va, acc[i][0]), r1 = _mm512_mul_ps(va, acc[i][1]);
        if (beta != 0.0f) {
            r0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, c + i * ldc), r0);
            r1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, c + i * ldc + 16), r1);
        }
        _mm512_mask_storeu_ps(c + i * ldc, m0, r0);
        _mm512_mask_storeu_ps(c + i * ldc + 16, m1, r1);
    }
}

/* The packed micro-kernel. a[k][12], b[k][32] packed and 64-byte aligned (gemm.h). */
static kl_status ukr_12x32(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                           float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 2
    for (ptrdiff_t p = 0; p < k; p++, a += MR, b += NR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    store_tile(acc, alpha, beta, c, ldc, mr, nr);
    return KL_OK;
    /* END SOLUTION */
}

const kl_gemm_kernel kl_gemm_avx512_kernel = {MR, NR, ukr_12x32, NULL, NULL};

/* ---- direct path: no packing ---- */

/* One tile straight from A and B. Rows past mr re-read row mr - 1 (never stored); columns past
 * nr are masked on load (masked-off lanes are not accessed). */
static inline __attribute__((always_inline)) void direct_tile(
    ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
    float beta, float *C, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    const float *ar[MR];
    for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : mr - 1) * lda;
    __mmask16 m0, m1;
    row_masks(nr, &m0, &m1);
    __m512 acc[MR][2];
    for (int i = 0; i < MR; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
    for (ptrdiff_t p = 0; p < k; p++, B += ldb) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, B), b1 = _mm512_maskz_loadu_ps(m1, B + 16);
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(ar[i][p]);
            acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
        }
    }
    store_tile(acc, alpha, beta, C, ldc, mr, nr);
}

/* Direct when A and B together fit in half of L2 (then packing only adds a copy). */
int kl_matmul_avx512_small(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return (double)(m + n) * (double)k * sizeof(float) <= (double)kl_cpu_cache_bytes(2) / 2;
}

kl_status kl_matmul_avx512_direct(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                  const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                  float beta, float *C, ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t j = 0; j < n; j += NR) {
        ptrdiff_t nr = n - j < NR ? n - j : NR;
        for (ptrdiff_t i = 0; i < m; i += MR) {
            ptrdiff_t mr = m - i < MR ? m - i : MR;
            direct_tile(k, alpha, A + i * lda, lda, B + j, ldb, beta, C + i * ldc + j, ldc, mr,
                        nr);
        }
    }
    return KL_OK;
    /* END SOLUTION */
}

/* ---- the rung ---- */

kl_status kl_matmul_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    if (kl_matmul_avx512_small(m, n, k))
        return kl_matmul_avx512_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return kl_gemm(&kl_gemm_avx512_kernel, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t kl_matmul_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads;
    return kl_matmul_avx512_small(m, n, k) ? 0
                                           : kl_gemm_scratch(&kl_gemm_avx512_kernel, m, n, k, 1);
}

size_t kl_matmul_avx512_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_mm_blocking_list(MR, NR, sizes, cap);
}
