/* Rung 2: the same three loops, reordered i-k-j.
 * C[m][n] = alpha * A[m][k] . B[k][n] + beta * C[m][n], row-major with leading dimensions.
 *
 * The naive rung's inner loop walks B down a column (stride ldb floats): one new cache line
 * per multiply-add. Swapping the two inner loops makes the innermost loop
 *     C[i][0..n) += (alpha * A[i][p]) * B[p][0..n)
 * which walks a row of B and a row of C with unit stride: every 64-byte line brings 16 useful
 * floats, the hardware prefetcher sees two plain streams, and the row of C (n floats) stays in
 * L1 across the whole p loop. The price: C is read and written k times instead of once, so C
 * is scaled by beta up front and then only accumulated into.
 *
 * What gcc 12 makes of the inner j loop (checked with -fopt-info-vec-all on this file, with the
 * project's flags: -std=c11, x86-64 baseline ISA, i.e. SSE2 and no FMA):
 *   -O2 (meson's debugoptimized, this project's default): NOT vectorised ("couldn't vectorize
 *       loop"). gcc 12 runs the loop vectoriser at -O2 but with the "very-cheap" cost model,
 *       which only accepts a loop whose vector code replaces the scalar code outright; this one
 *       needs a scalar epilogue (n is unknown) and a runtime alias check, so it stays scalar:
 *       one float per instruction.
 *   -O3 ("dynamic" cost model): "loop vectorized using 16 byte vectors" and "loop versioned
 *       for vectorization because of possible aliasing": gcc emits a runtime test that C's row
 *       does not overlap B's row, a 4-float mulps + addps body, and an epilogue that is itself
 *       vectorised with 8-byte (2-float) vectors. `restrict` on the two row pointers, tried as
 *       block-scope locals, did not remove the versioning.
 *   With -O3 -mavx2 -mfma the body widens to 32-byte (8-float) vectors, but still no FMA:
 *       -std=c11 (unlike gnu11) implies -ffp-contract=off, so a*b+c is never fused.
 * So with the portable flags this library ships, the compiler reaches at best 4 floats per
 * instruction (half an AVX2 register) and never fuses the multiply-add; the packed rungs write
 * the SIMD micro-kernel by hand. */
#include "matmul.h"

kl_status kl_matmul_interchange(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                float beta, float *C, ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    if (beta != 1.0f) kl_scale_c(m, n, beta, C, ldc); /* beta == 0 writes zeros, never reads C */
    for (ptrdiff_t i = 0; i < m; i++) {
        float *c = C + i * ldc;
        for (ptrdiff_t p = 0; p < k; p++) {
            const float *b = B + p * ldb;
            const float a = alpha * A[i * lda + p];
            for (ptrdiff_t j = 0; j < n; j++) c[j] += a * b[j];
        }
    }
    return KL_OK;
    /* END SOLUTION */
}
