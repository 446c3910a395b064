/* Rung 3: the i-k-j loops of the interchange rung, cut into cache-sized tiles, with each pass
 * over C applying four rows of B.
 * C[m][n] = alpha * A[m][k] . B[k][n] + beta * C[m][n], row-major with leading dimensions.
 *
 * The interchange rung does three memory operations (load b, load c, store c) per multiply-add
 * and streams all of B once per row of C. Here each pass over a row segment of C adds four rows
 * of B at once (c += a0 b0 + a1 b1 + a2 b2 + a3 b3: six memory operations per four
 * multiply-adds), and the loops are split so the four rows stay in L1 and C stays in L2:
 *
 *   for ic in steps of MB         rows of A and C: the MB x n block of C stays in L2
 *     for pc in steps of KB       the shared k dimension: a KB x NB slab of B, in L1
 *       for jc in steps of NB     columns of B and C
 *         for i in ic..ic+MB        C[i][jc..jc+NB) += alpha * A[i][pc..pc+KB) . slab
 *
 * Tile rule (floats are 4 bytes; sizes from kl_cpu_cache_bytes(), in whole 64-byte lines):
 *   KB = 4, the rows one pass applies. A slab must survive in L1 even when ldb*4 is a multiple
 *       of 4 KiB (n = 1024, 2048, ...): then all its rows land in the same L1 sets, and only as
 *       many rows as the cache has ways fit. Four rows leave half of an 8-way L1 to C and A;
 *       a square 64 x 64 tile thrashes there and loses to the interchange rung.
 *   NB = the largest multiple of 16 with KB*NB*4 <= L1/2: the slab fills half of L1.
 *       32 KiB L1 -> 1024 (16 KiB).
 *   MB = the largest multiple of 16 with MB*NB*4 <= L2/2: every slab updates the same MB x NB
 *       block of C, so it should stay in L2. 1 MiB L2 -> 128.
 * Environment variables KL_BLOCKED_MB, KL_BLOCKED_KB, KL_BLOCKED_NB (whole numbers in
 * [1, 1048576]) override an edge; anything else is ignored. MB follows the NB in use.
 *
 * What is left for the next rungs: the inner loop is still the compiler's (SSE at -O3, no FMA),
 * C is loaded and stored once per four multiply-adds, and every row segment of C is short-lived
 * in registers. Packing plus a register tile (rung 4) removes those. */
#include "matmul.h"

#include <stdlib.h>

enum { LINE_FLOATS = 16, SLAB_ROWS = 4, MAX_EDGE = 1 << 20 };

typedef struct { ptrdiff_t mb, kb, nb; } tiles;

/* Largest multiple of 16 that is <= x, and at least 16. */
static ptrdiff_t whole_lines(size_t x) {
    ptrdiff_t v = (ptrdiff_t)(x / LINE_FLOATS) * LINE_FLOATS;
    return v < LINE_FLOATS ? LINE_FLOATS : v;
}

/* An override from the environment, or `fallback` when unset or not a number in range. */
static ptrdiff_t env_edge(const char *name, ptrdiff_t fallback) {
    ptrdiff_t v = kl_env_size(name, 1, MAX_EDGE, NULL);
    return v > 0 ? v : fallback;
}

static tiles choose_tiles(void) {
    const size_t l1 = kl_cpu_cache_bytes(1) / sizeof(float); /* in floats */
    const size_t l2 = kl_cpu_cache_bytes(2) / sizeof(float);
    tiles t;
    t.kb = env_edge("KL_BLOCKED_KB", SLAB_ROWS);
    t.nb = env_edge("KL_BLOCKED_NB", whole_lines(l1 / 2 / SLAB_ROWS));
    t.mb = env_edge("KL_BLOCKED_MB", whole_lines(l2 / 2 / (size_t)t.nb));
    return t;
}

/* Registry `blocking`: the tile edges in use, in the order MB, KB, NB. */
size_t kl_matmul_blocked_blocking(ptrdiff_t *sizes, size_t cap) {
    const tiles t = choose_tiles();
    const ptrdiff_t edges[3] = {t.mb, t.kb, t.nb};
    for (size_t i = 0; sizes && i < cap && i < 3; i++) sizes[i] = edges[i];
    return 3;
}

static inline ptrdiff_t min_pd(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }

kl_status kl_matmul_blocked(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                            ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                            ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    const tiles t = choose_tiles(); /* MB, KB, NB by the rule at the top of this file */
    if (beta != 1.0f) kl_scale_c(m, n, beta, C, ldc); /* beta == 0 writes zeros, never reads C */
    for (ptrdiff_t ic = 0; ic < m; ic += t.mb) {
        const ptrdiff_t i_end = min_pd(ic + t.mb, m);
        for (ptrdiff_t pc = 0; pc < k; pc += t.kb) {
            const ptrdiff_t p_end = min_pd(pc + t.kb, k);
            for (ptrdiff_t jc = 0; jc < n; jc += t.nb) {
                const ptrdiff_t nc = min_pd(t.nb, n - jc);
                for (ptrdiff_t i = ic; i < i_end; i++) {
                    float *c = C + i * ldc + jc;
                    const float *a = A + i * lda;
                    ptrdiff_t p = pc;
                    for (; p + 4 <= p_end; p += 4) { /* four rows of B per pass over c */
                        const float *b0 = B + p * ldb + jc, *b1 = b0 + ldb, *b2 = b1 + ldb,
                                    *b3 = b2 + ldb;
                        const float a0 = alpha * a[p], a1 = alpha * a[p + 1],
                                    a2 = alpha * a[p + 2], a3 = alpha * a[p + 3];
                        for (ptrdiff_t j = 0; j < nc; j++)
                            c[j] += a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
                    }
                    for (; p < p_end; p++) { /* the last k % 4 rows of the slab */
                        const float *b = B + p * ldb + jc;
                        const float ap = alpha * a[p];
                        for (ptrdiff_t j = 0; j < nc; j++) c[j] += ap * b[j];
                    }
                }
            }
        }
    }
    return KL_OK;
    /* END SOLUTION */
}
