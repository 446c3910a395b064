/* Rung 5 (AVX2 + FMA): the packed driver of rung 4 with a 6 x 16 intrinsics micro-kernel.
 * A core with two 8-wide FMA pipes and a 4-cycle FMA latency (Haswell and later) needs at
 * least 8 independent accumulators to keep both pipes busy. 6 x 16 holds 12 of them
 * (c[6][2], 8 floats each) + 2 registers for a row of B + 1 broadcast of A = 15 of 16 ymm.
 * Per k step: 2 loads of B, 6 broadcasts of A, 12 FMAs (6 cycles): loads stay under 2/cycle.
 *
 * Small problems skip packing (direct path): the same tile, reading A and B where they lie. */
#include "gemm.h"

#include <immintrin.h>

enum { MR = 6, NR = 16 };

/* Lanes j < nr of a 16-wide row, as two 8-lane masks for maskload/maskstore. */
static inline void row_masks(ptrdiff_t nr, __m256i *m0, __m256i *m1) {
    __m256i n = _mm256_set1_epi32((int)nr);
    *m0 = _mm256_cmpgt_epi32(n, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    *m1 = _mm256_cmpgt_epi32(n, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15));
}

/* c[mr][nr] = alpha * acc + beta * c for the valid corner; beta == 0 never reads c.
 * Rows past mr are skipped; columns past nr are masked (no bounce buffer). Masked loads and
 * stores are microcoded on some cores (AMD's before Zen 4 among them), so full-width rows use
 * plain ones. */
static inline __attribute__((always_inline)) void store_tile(__m256 acc[MR][2], float alpha,
                                                             float beta, float *c, ptrdiff_t ldc,
                                                             ptrdiff_t mr, ptrdiff_t nr) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    if (nr == NR) { /* full width: plain stores for the valid rows */
        for (int i = 0; i < MR; i++) {
            if (i >= mr) break;
            __m256 r0 = acc[i][0], r1 = acc[i][1];
            if (alpha != 1.0f) r0 = _mm256_mul_ps(va, r0), r1 = _mm256_mul_ps(va, r1);
            if (beta != 0.0f) {
                r0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc), r0);
                r1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(c + i * ldc + 8), r1);
            }
            _mm256_storeu_ps(c + i * ldc, r0);
            _mm256_storeu_ps(c + i * ldc + 8, r1);
        }
        return;
    }
    __m256i m0, m1;
    row_masks(nr, &m0, &m1);
    for (int i = 0; i < MR; i++) {
        if (i >= mr) break;
        __m256 r0 = acc[i][0], r1 = acc[i][1];
        if (alpha != 1.0f) r0 = _mm256_mul_ps(va, r0), r1 = _mm256_mul_ps(va, r1);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + i * ldc, m0), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(c + i * ldc + 8, m1), r1);
        }
        _mm256_maskstore_ps(c + i * ldc, m0, r0);
        _mm256_maskstore_ps(c + i * ldc + 8, m1, r1);
    }
}

/* The packed micro-kernel. a[k][6], b[k][16] packed and 64-byte aligned (gemm.h). */
static kl_status ukr_6x16(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                          float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    /* Twelve named accumulators, not an array: gcc keeps an array indexed in a loop on the
     * stack (a store per FMA). The tile goes to an array only once, for the write-back. */
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    for (int i = 0; i < MR; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
#pragma GCC unroll 4
    for (ptrdiff_t p = 0; p < k; p++, a += MR, b += NR) {
        __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), ai;
        /* A streams from L2; ask for it 16 k steps (384 B) ahead. Measured: +4% over the
         * hardware prefetcher alone with A in L2; 48..96 floats ahead is the sweet spot. */
        _mm_prefetch((const char *)(a + 96), _MM_HINT_T0);
        ai = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    store_tile(acc, alpha, beta, c, ldc, mr, nr);
    return KL_OK;
    /* END SOLUTION */
}

/* ---- packing with AVX2 (the portable loops cost ~12% at n = 256) ---- */

/* Ap[mc/6][kc][6] <- A[mc][kc]: 8 columns of 6 rows at a time, transposed in registers
 * (as an 8 x 8 with two zero rows) and written 6 floats per column.
 * A ragged last panel or k tail goes to the portable loop. */
static void pack_a_6(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t lda,
                     float *Ap) {
    /* BEGIN SOLUTION */
    ptrdiff_t r = 0;
    for (; r + MR <= mc; r += MR, Ap += MR * kc) {
        const float *a = A + r * lda;
        ptrdiff_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 r0 = _mm256_loadu_ps(a + p), r1 = _mm256_loadu_ps(a + lda + p),
                   r2 = _mm256_loadu_ps(a + 2 * lda + p), r3 = _mm256_loadu_ps(a + 3 * lda + p),
                   r4 = _mm256_loadu_ps(a + 4 * lda + p), r5 = _mm256_loadu_ps(a + 5 * lda + p),
                   z = _mm256_setzero_ps();
            /* 8 x 8 transpose of rows r0..r5, 0, 0: column q of A ends up in t[q]. */
            __m256 u0 = _mm256_unpacklo_ps(r0, r1), u1 = _mm256_unpackhi_ps(r0, r1),
                   u2 = _mm256_unpacklo_ps(r2, r3), u3 = _mm256_unpackhi_ps(r2, r3),
                   u4 = _mm256_unpacklo_ps(r4, r5), u5 = _mm256_unpackhi_ps(r4, r5);
            __m256 v0 = _mm256_shuffle_ps(u0, u2, 0x44), v1 = _mm256_shuffle_ps(u0, u2, 0xEE),
                   v2 = _mm256_shuffle_ps(u1, u3, 0x44), v3 = _mm256_shuffle_ps(u1, u3, 0xEE),
                   v4 = _mm256_shuffle_ps(u4, z, 0x44), v5 = _mm256_shuffle_ps(u4, z, 0xEE),
                   v6 = _mm256_shuffle_ps(u5, z, 0x44), v7 = _mm256_shuffle_ps(u5, z, 0xEE);
            __m256 t[8] = {
                _mm256_permute2f128_ps(v0, v4, 0x20), _mm256_permute2f128_ps(v1, v5, 0x20),
                _mm256_permute2f128_ps(v2, v6, 0x20), _mm256_permute2f128_ps(v3, v7, 0x20),
                _mm256_permute2f128_ps(v0, v4, 0x31), _mm256_permute2f128_ps(v1, v5, 0x31),
                _mm256_permute2f128_ps(v2, v6, 0x31), _mm256_permute2f128_ps(v3, v7, 0x31)};
            /* 8-float stores 6 apart, in order: each one's 2 junk lanes are overwritten by the
             * next. The last stores exactly 6 (never past the panel). Masked stores are
             * microcoded on some cores, where they are slower than the scalar loop. */
            for (int q = 0; q < 7; q++) _mm256_storeu_ps(Ap + (p + q) * MR, t[q]);
            _mm_storeu_ps(Ap + (p + 7) * MR, _mm256_castps256_ps128(t[7]));
            _mm_storel_pi((__m64 *)(Ap + (p + 7) * MR + 4), _mm256_extractf128_ps(t[7], 1));
        }
        for (; p < kc; p++)
            for (int i = 0; i < MR; i++) Ap[p * MR + i] = a[i * lda + p];
    }
    if (r < mc) kl_gemm_pack_a(mr, mc - r, kc, A + r * lda, lda, Ap);
    /* END SOLUTION */
}

/* Bp[nc/16][kc][16] <- B[kc][nc]: row by row, two vector moves per sliver row. */
static void pack_b_16(ptrdiff_t nr, ptrdiff_t kc, ptrdiff_t nc, const float *B, ptrdiff_t ldb,
                      float *Bp) {
    /* BEGIN SOLUTION */
    ptrdiff_t full = nc / NR * NR;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const float *b = B + p * ldb;
        float *dst = Bp + p * NR;
        for (ptrdiff_t s = 0; s < full; s += NR, dst += NR * kc) {
            _mm256_store_ps(dst, _mm256_loadu_ps(b + s));
            _mm256_store_ps(dst + 8, _mm256_loadu_ps(b + s + 8));
        }
    }
    if (full < nc) kl_gemm_pack_b(nr, kc, nc - full, B + full, ldb, Bp + full * kc);
    /* END SOLUTION */
}

const kl_gemm_kernel kl_gemm_avx2_kernel = {MR, NR, 1, ukr_6x16, pack_a_6, pack_b_16};

/* ---- direct path: no packing, for problems whose operands already sit in L1/L2 ---- */

/* One tile straight from A (rows lda apart) and B (rows ldb apart). Rows past mr re-read row
 * mr - 1 (computed, never stored); columns past nr are masked on load, so nothing outside
 * A or B is touched. masked: 0 full width, 1 nr < 16, 2 nr <= 8 (one vector of B per row). */
static inline __attribute__((always_inline)) void direct_tile(
    ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
    float beta, float *C, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr, int masked) {
    /* BEGIN SOLUTION */
    const float *ar[MR];
    for (int i = 0; i < MR; i++) ar[i] = A + (i < mr ? i : mr - 1) * lda;
    __m256i m0 = _mm256_setzero_si256(), m1 = m0;
    if (masked) row_masks(nr, &m0, &m1);
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
           c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3], *a4 = ar[4], *a5 = ar[5];
#pragma GCC unroll 2
    for (ptrdiff_t p = 0; p < k; p++, B += ldb) {
        __m256 b0 = masked ? _mm256_maskload_ps(B, m0) : _mm256_loadu_ps(B);
        __m256 ai;
        if (masked == 2) { /* nr <= 8: half the work of a masked 16-wide tile */
            ai = _mm256_broadcast_ss(a0 + p); c00 = _mm256_fmadd_ps(ai, b0, c00);
            ai = _mm256_broadcast_ss(a1 + p); c10 = _mm256_fmadd_ps(ai, b0, c10);
            ai = _mm256_broadcast_ss(a2 + p); c20 = _mm256_fmadd_ps(ai, b0, c20);
            ai = _mm256_broadcast_ss(a3 + p); c30 = _mm256_fmadd_ps(ai, b0, c30);
            ai = _mm256_broadcast_ss(a4 + p); c40 = _mm256_fmadd_ps(ai, b0, c40);
            ai = _mm256_broadcast_ss(a5 + p); c50 = _mm256_fmadd_ps(ai, b0, c50);
            continue;
        }
        __m256 b1 = masked ? _mm256_maskload_ps(B + 8, m1) : _mm256_loadu_ps(B + 8);
        ai = _mm256_broadcast_ss(a0 + p); c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a1 + p); c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a2 + p); c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a3 + p); c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a4 + p); c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a5 + p); c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    store_tile(acc, alpha, beta, C, ldc, mr, nr);
    /* END SOLUTION */
}

kl_status kl_matmul_avx2_direct(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                float beta, float *C, ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    /* j outside i: the k x 16 strip of B stays in L1 while A's rows stream past. */
    for (ptrdiff_t j = 0; j < n; j += NR) {
        ptrdiff_t nr = n - j < NR ? n - j : NR;
        for (ptrdiff_t i = 0; i < m; i += MR) {
            ptrdiff_t mr = m - i < MR ? m - i : MR;
            if (nr == NR)
                direct_tile(k, alpha, A + i * lda, lda, B + j, ldb, beta, C + i * ldc + j, ldc,
                            mr, nr, 0);
            else if (nr > 8)
                direct_tile(k, alpha, A + i * lda, lda, B + j, ldb, beta, C + i * ldc + j, ldc,
                            mr, nr, 1);
            else
                direct_tile(k, alpha, A + i * lda, lda, B + j, ldb, beta, C + i * ldc + j, ldc,
                            mr, nr, 2);
        }
    }
    return KL_OK;
    /* END SOLUTION */
}

/* ---- the rung ---- */

kl_status kl_matmul_avx2(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                         ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                         ptrdiff_t ldc) {
    if (kl_matmul_direct_ok(KL_ISA_AVX2, m, n, k))
        return kl_matmul_avx2_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return kl_gemm(&kl_gemm_avx2_kernel, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Its scratch and blocking functions are in gemm.c, compiled without AVX flags. */
