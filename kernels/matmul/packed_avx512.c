/* Rung 5 (AVX-512): packed_avx2.c with 16-wide registers; read the two side by side.
 * The registry only runs it where kl_cpu_isa() reports avx512.
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

/* One row i of the tile for one k step: broadcast A_(i), two FMAs into c<i>_0, c<i>_1.
 * Both kernels define A_(i) as where their row i of A is. */
#define ROW(i)                                                                              \
    ai = _mm512_set1_ps(A_(i));                                                             \
    c##i##_0 = _mm512_fmadd_ps(ai, b0, c##i##_0);                                           \
    c##i##_1 = _mm512_fmadd_ps(ai, b1, c##i##_1)

/* The packed micro-kernel. a[k][12], b[k][32] packed and 64-byte aligned (gemm.h). */
static kl_status ukr_12x32(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                           float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    /* 24 named accumulators, not an array: gcc keeps an array indexed in a loop on the stack
     * (a store per FMA). ROW(i) (above) is one row of the tile. */
    __m512 z = _mm512_setzero_ps(), c0_0 = z, c0_1 = z, c1_0 = z, c1_1 = z, c2_0 = z, c2_1 = z,
           c3_0 = z, c3_1 = z, c4_0 = z, c4_1 = z, c5_0 = z, c5_1 = z, c6_0 = z, c6_1 = z,
           c7_0 = z, c7_1 = z, c8_0 = z, c8_1 = z, c9_0 = z, c9_1 = z, c10_0 = z, c10_1 = z,
           c11_0 = z, c11_1 = z;
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
#define A_(i) a[i]
#pragma GCC unroll 4 /* gcc 12: unroll 1 or 2 spills a row of B to the stack; 4 does not */
    for (ptrdiff_t p = 0; p < k; p++, a += MR, b += NR) {
        __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16), ai;
        _mm_prefetch((const char *)(a + 192), _MM_HINT_T0); /* A from L2, 16 k steps ahead */
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
        ROW(6); ROW(7); ROW(8); ROW(9); ROW(10); ROW(11);
    }
#undef A_
    __m512 acc[MR][2] = {{c0_0, c0_1}, {c1_0, c1_1}, {c2_0, c2_1}, {c3_0, c3_1},
                         {c4_0, c4_1}, {c5_0, c5_1}, {c6_0, c6_1}, {c7_0, c7_1},
                         {c8_0, c8_1}, {c9_0, c9_1}, {c10_0, c10_1}, {c11_0, c11_1}};
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
    /* BEGIN SOLUTION */
    const float *ar[MR];
    for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : mr - 1) * lda;
    __mmask16 m0, m1;
    row_masks(nr, &m0, &m1);
    __m512 z = _mm512_setzero_ps(), c0_0 = z, c0_1 = z, c1_0 = z, c1_1 = z, c2_0 = z, c2_1 = z,
           c3_0 = z, c3_1 = z, c4_0 = z, c4_1 = z, c5_0 = z, c5_1 = z, c6_0 = z, c6_1 = z,
           c7_0 = z, c7_1 = z, c8_0 = z, c8_1 = z, c9_0 = z, c9_1 = z, c10_0 = z, c10_1 = z,
           c11_0 = z, c11_1 = z;
#define A_(i) ar[i][p]
    for (ptrdiff_t p = 0; p < k; p++, B += ldb) {
        __m512 b0 = _mm512_maskz_loadu_ps(m0, B), b1 = _mm512_maskz_loadu_ps(m1, B + 16), ai;
        ROW(0); ROW(1); ROW(2); ROW(3); ROW(4); ROW(5);
        ROW(6); ROW(7); ROW(8); ROW(9); ROW(10); ROW(11);
    }
#undef A_
    __m512 acc[MR][2] = {{c0_0, c0_1}, {c1_0, c1_1}, {c2_0, c2_1}, {c3_0, c3_1},
                         {c4_0, c4_1}, {c5_0, c5_1}, {c6_0, c6_1}, {c7_0, c7_1},
                         {c8_0, c8_1}, {c9_0, c9_1}, {c10_0, c10_1}, {c11_0, c11_1}};
    store_tile(acc, alpha, beta, C, ldc, mr, nr);
    /* END SOLUTION */
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
    if (kl_matmul_direct_ok(m, n, k))
        return kl_matmul_avx512_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return kl_gemm(&kl_gemm_avx512_kernel, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Its scratch and blocking functions are in gemm.c, compiled without AVX-512 flags. */
