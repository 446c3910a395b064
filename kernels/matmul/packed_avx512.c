/* Rung 5 (AVX-512): packed_avx2.c with 16-wide registers; read the two side by side.
 * The registry only runs it where kl_cpu_isa() reports avx512.
 * Cores with AVX-512 retire one or two 16-wide FMAs per cycle with 4-cycle latency, so a tile
 * needs >= 8 independent accumulators. Two packed micro-kernel shapes exist, and the blocking
 * model (blocking.c) picks one for the cache geometry:
 *   12 x 32: 24 accumulators + 2 registers for a row of B + 1 broadcast of A = 27 of 32 zmm;
 *   14 x 32: 28 + 2 + 1 = 31 zmm: 8% fewer loads per FMA for the same KC.
 * Per k step: 2 loads of B, MR broadcasts of A, 2*MR FMAs. Fringe tiles run one vector per row
 * when <= 16 columns are left (an 8-wide one when <= 8 are) and store with write masks.
 *
 * Every tile here is one function, tile(), instantiated with constant ROWS and VECS (16-wide
 * vectors per row): with constants, gcc unrolls its loops completely and keeps the acc array
 * in registers (an array indexed by a run-time variable would live on the stack).
 *
 * Small problems skip packing (the direct path): tiles read A and B where they are, with
 * masked loads at the right edge, and tiles as tall as the rows left (no wasted FMAs). */
#include "gemm.h"

#include <immintrin.h>

/* The tallest 32-wide tile is 14 x 32 (28 accumulators); a one-vector tile may be taller, up
 * to MAX_ROWS = NARROW_ROWS (16 accumulators), which the direct path uses when n <= 16. */
enum { MAX_ROWS = 16, MAX_VECS = 2, VEC = 16, NARROW_ROWS = 16 };
/* The direct path's 32-wide tiles stop at 12 rows: at 14, its masked B loads and 14 row
 * addresses leave gcc one zmm short, and it spills an accumulator inside the k loop. */
enum { DIRECT_WIDE_ROWS = 12 };

/* Lanes j < cols of a 32-wide row, as two 16-lane masks. */
static inline void row_masks(ptrdiff_t cols, __mmask16 m[MAX_VECS]) {
    /* BEGIN SOLUTION */
    m[0] = (__mmask16)(cols >= 16 ? 0xFFFF : (1u << cols) - 1);
    m[1] = (__mmask16)(cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (1u << (cols - 16)) - 1);
    /* END SOLUTION */
}

/* Where a tile's operands are: row i of A at a[i*a_row + p*a_k]; row p of B at b[p*b_k].
 * Packed: a_row = 1, a_k = the panel's MR (12 or 14, also for a shorter fringe tile), b_k = 32,
 * aligned and zero-padded (no masks needed).
 * Direct: a_row = lda, a_k = 1, b_k = ldb, B loaded with the column masks. */
typedef struct operands {
    const float *a, *b;
    ptrdiff_t a_row, a_k, b_k;
} operands;

/* c[rows][cols] = alpha * A.B + beta * c for a ROWS x (16*VECS) tile; rows >= mr and masked
 * lanes are not stored; beta == 0 never reads c. */
static inline __attribute__((always_inline)) void tile(const int ROWS, const int VECS,
                                                       const int packed, ptrdiff_t k,
                                                       float alpha, operands o, float beta,
                                                       float *c, ptrdiff_t ldc, ptrdiff_t mr,
                                                       ptrdiff_t cols) {
    /* BEGIN SOLUTION */
    __m512 acc[MAX_ROWS][MAX_VECS];
    __mmask16 m[MAX_VECS];
    row_masks(cols, m);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++)
#pragma GCC unroll 2
        for (int v = 0; v < VECS; v++) acc[i][v] = _mm512_setzero_ps();
    if (packed) /* C's tile comes from L3 or memory: ask for each row's 64-byte lines early */
        for (int i = 0; i < ROWS && i < mr; i++)
            for (int v = 0; v < VECS; v++)
                _mm_prefetch((const char *)(c + i * ldc + VEC * v), _MM_HINT_T0);
    const float *a = o.a, *b = o.b;
#pragma GCC unroll 4 /* gcc 12: unroll 1 or 2 spills a row of B to the stack; 4 does not */
    for (ptrdiff_t p = 0; p < k; p++, a += o.a_k, b += o.b_k) {
        __m512 bv[MAX_VECS];
#pragma GCC unroll 2
        for (int v = 0; v < VECS; v++)
            bv[v] = packed ? _mm512_load_ps(b + VEC * v) : _mm512_maskz_loadu_ps(m[v], b + VEC * v);
        if (packed) _mm_prefetch((const char *)(a + 16 * o.a_k), _MM_HINT_T0); /* A from L2 */
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++) {
            __m512 ai = _mm512_set1_ps(a[i * o.a_row]);
#pragma GCC unroll 2
            for (int v = 0; v < VECS; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
        if (i >= mr) break;
#pragma GCC unroll 2
        for (int v = 0; v < VECS; v++) {
            /* alpha = 1 skips a multiply per vector: 16 beside the 256 FMAs of a 16^3 call */
            __m512 r = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(va, acc[i][v]);
            float *cv = c + i * ldc + VEC * v;
            if (beta != 0.0f) r = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], cv), r);
            _mm512_mask_storeu_ps(cv, m[v], r);
        }
    }
    /* END SOLUTION */
}

/* tile() for a fringe of <= 8 columns: one 8-wide ymm vector per row (AVX-512VL masks); rows
 * >= mr are not stored. Where the core splits a 16-wide FMA into two 8-wide halves (AMD Zen 4)
 * this costs half of a 16-wide tile; elsewhere the same. */
static inline __attribute__((always_inline)) void tile8(const int ROWS, const int packed,
                                                        ptrdiff_t k, float alpha, operands o,
                                                        float beta, float *c, ptrdiff_t ldc,
                                                        ptrdiff_t mr, ptrdiff_t cols) {
    /* BEGIN SOLUTION */
    __m256 acc[MAX_ROWS];
    const __mmask8 m = (__mmask8)((1u << cols) - 1); /* cols in 1..8 */
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) acc[i] = _mm256_setzero_ps();
    const float *a = o.a, *b = o.b;
#pragma GCC unroll 4
    for (ptrdiff_t p = 0; p < k; p++, a += o.a_k, b += o.b_k) {
        __m256 bv = packed ? _mm256_load_ps(b) : _mm256_maskz_loadu_ps(m, b);
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++)
            acc[i] = _mm256_fmadd_ps(_mm256_set1_ps(a[i * o.a_row]), bv, acc[i]);
    }
    const __m256 va = _mm256_set1_ps(alpha);
    const __m256 vb = _mm256_set1_ps(beta);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
        if (i >= mr) break;
        __m256 r = alpha == 1.0f ? acc[i] : _mm256_mul_ps(va, acc[i]);
        if (beta != 0.0f) r = _mm256_fmadd_ps(vb, _mm256_maskz_loadu_ps(m, c + i * ldc), r);
        _mm256_mask_storeu_ps(c + i * ldc, m, r);
    }
    /* END SOLUTION */
}

/* The tile for `cols` (<= 32) columns: two 16-wide vectors per row, one, or one 8-wide, so a
 * fringe spends no FMA on a missing half. R rows are computed and the first MR stored. */
#define BY_WIDTH(R, PACKED, MR)                                                            \
    if (cols > VEC) tile(R, 2, PACKED, k, alpha, o, beta, c, ldc, MR, cols);               \
    else if (cols > VEC / 2) tile(R, 1, PACKED, k, alpha, o, beta, c, ldc, MR, cols);      \
    else tile8(R, PACKED, k, alpha, o, beta, c, ldc, MR, cols)

/* A packed panel's rows past `rows` are zero, so the fringe rounds its rows up to 4, 8, 12 or
 * 14 and stores only `rows`: 12 tile bodies, not one per row count (each costs about 0.1 s of
 * compile in every build of the lab, a student's tree included). The extra FMAs hide where
 * they are most of the work: a call with a few rows (m = 1, 2, 3 at n = k = 1024) is bound by
 * packing B, and times the same with tiles of exactly its height. */
static void packed_fringe_tile(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t k, float alpha,
                               operands o, float beta, float *c, ptrdiff_t ldc) {
    if (rows <= 4) { BY_WIDTH(4, 1, rows); }
    else if (rows <= 8) { BY_WIDTH(8, 1, rows); }
    else if (rows <= 12) { BY_WIDTH(12, 1, rows); }
    else { BY_WIDTH(14, 1, rows); }
}

/* The direct path reads A where it is, so its tiles are exactly `rows` tall: the switch turns
 * the run-time count into a compile-time one. Rows past DIRECT_WIDE_ROWS come only with
 * <= 16 columns (kl_matmul_avx512_direct ensures it), so they have no 32-wide tile. */
#define WIDE(R) case R: BY_WIDTH(R, 0, R); break
#define NARROW(R)                                                                          \
    case R:                                                                                \
        if (cols > VEC / 2) tile(R, 1, 0, k, alpha, o, beta, c, ldc, R, cols);             \
        else tile8(R, 0, k, alpha, o, beta, c, ldc, R, cols);                              \
        break

/* op by pointer: a by-value struct went through the stack as four 8-byte stores that the
 * callee read back as one 32-byte load, a failed store forward costing ~5% of a 16^3 call. */
static void direct_tile(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t k, float alpha,
                        const operands *op, float beta, float *c, ptrdiff_t ldc) {
    const operands o = {op->a, op->b, op->a_row, op->a_k, op->b_k};
    switch (rows) {
        WIDE(1); WIDE(2); WIDE(3); WIDE(4); WIDE(5); WIDE(6);
        WIDE(7); WIDE(8); WIDE(9); WIDE(10); WIDE(11); WIDE(12);
        NARROW(13); NARROW(14); NARROW(15); NARROW(16);
    }
}
#undef NARROW
#undef WIDE
#undef BY_WIDTH

/* ---- the packed micro-kernels: a[k][MR], b[k][32], 64-byte aligned (gemm.h) ---- */

static kl_status ukr_12x32(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                           float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    operands o = {a, b, 1, 12, 32};
    if (mr == 12 && nr > VEC) tile(12, 2, 1, k, alpha, o, beta, c, ldc, mr, nr);
    else packed_fringe_tile(mr, nr, k, alpha, o, beta, c, ldc);
    return KL_OK;
    /* END SOLUTION */
}

static kl_status ukr_14x32(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                           float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    operands o = {a, b, 1, 14, 32};
    if (mr == 14 && nr > VEC) tile(14, 2, 1, k, alpha, o, beta, c, ldc, mr, nr);
    else packed_fringe_tile(mr, nr, k, alpha, o, beta, c, ldc);
    return KL_OK;
    /* END SOLUTION */
}

const kl_gemm_kernel kl_gemm_avx512_kernels[KL_AVX512_SHAPES] = {
    {12, 32, 1, ukr_12x32, NULL, NULL},
    {14, 32, 1, ukr_14x32, NULL, NULL},
};

/* ---- direct path: no packing ---- */

/* Rows are dealt out evenly over ceil(m / 12) tiles (m = 20: two tiles of 10, not 12 + 8;
 * ceil(m / 16) when n <= 16, whose tiles are one vector wide), columns in 32-wide slivers with
 * one masked sliver at the edge. */
kl_status kl_matmul_avx512_direct(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                  const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                  float beta, float *C, ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    const ptrdiff_t W = MAX_VECS * VEC;
    /* Constant divisors, and one division for the split: at 16^3 a call is ~100 ns, and two
     * 64-bit divisions per tile were 5% of it. The first `extra` tiles take one row more. */
    const ptrdiff_t tiles = n <= VEC ? (m + NARROW_ROWS - 1) / NARROW_ROWS
                                     : (m + DIRECT_WIDE_ROWS - 1) / DIRECT_WIDE_ROWS;
    const ptrdiff_t base = m / tiles, extra = m % tiles;
    for (ptrdiff_t j = 0; j < n; j += W) {
        ptrdiff_t cols = n - j < W ? n - j : W;
        for (ptrdiff_t t = 0, i0 = 0; t < tiles; t++) {
            ptrdiff_t rows = base + (t < extra);
            operands o = {A + i0 * lda, B + j, lda, 1, ldb};
            direct_tile(rows, cols, k, alpha, &o, beta, C + i0 * ldc + j, ldc);
            i0 += rows;
        }
    }
    return KL_OK;
    /* END SOLUTION */
}

/* ---- the rung ---- */

kl_status kl_matmul_avx512(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    if (kl_matmul_direct_ok(KL_ISA_AVX512, m, n, k))
        return kl_matmul_avx512_direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    return kl_gemm(kl_gemm_avx512_kernel(), 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Its scratch and blocking functions are in gemm.c, compiled without AVX-512 flags. */
