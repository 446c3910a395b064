/* Rung 3: the i-k-j loops of the interchange rung, cut into cache-sized tiles.
 * C[m][n] = alpha * A[m][k] . B[k][n] + beta * C[m][n], row-major with leading dimensions.
 *
 * The interchange rung streams all of B (k x n floats) once per row of C, so for a large B
 * every row re-reads B from L3 or DRAM. Here the loops are split so each piece of B and A is
 * reused while it is still in a near cache:
 *
 *   for ic in steps of MB         rows of A and C
 *     for pc in steps of KB       the shared k dimension
 *       for jc in steps of NB     columns of B and C
 *         for i in ic..ic+MB      } the interchange loops on one tile:
 *           for p in pc..pc+KB    }   C[i][jc..jc+NB) += alpha*A[i][p] * B[p][jc..jc+NB)
 *             for j in jc..jc+NB  }
 *
 * Tile rule (floats are 4 bytes; sizes from kl_cpu_cache_bytes(), rounded down to whole
 * 64-byte lines, i.e. multiples of 16 floats, and at least 16):
 *   KB = NB = the largest multiple of 16 with KB*NB*4 <= L1/2
 *       The KB x NB tile of B is reused by all MB rows of the i loop, so it should stay in
 *       L1; half of L1 is left for the C row segment (NB floats), the A values and the
 *       conflict misses an 8-way cache suffers. 32 KiB L1 -> 64 x 64 (16 KiB).
 *   MB = the largest multiple of 16 with MB*KB*4 <= L2/2
 *       The MB x KB tile of A is reused by every jc step, so it should stay in L2; the other
 *       half of L2 holds the B tile and the C rows passing through. 512 KiB L2 -> MB = 1024.
 * Environment variables KL_BLOCKED_MB, KL_BLOCKED_KB, KL_BLOCKED_NB (whole numbers in
 * [1, 1048576]) override an edge; anything else is ignored. MB follows the KB in use.
 *
 * What blocking cannot fix on its own: the B tile's rows are ldb floats apart, so when ldb*4
 * is a multiple of 4 KiB (n = 1024, 2048, ...) all of them land in the same few L1 sets and
 * evict each other long before the tile is "full". Copying the tile into a contiguous buffer
 * (packing) is the next rung. And the inner loop is still the scalar loop of the interchange
 * rung (gcc -O2 does not vectorise it), so this rung is often no faster than interchange on a
 * CPU whose caches keep up with one float per cycle: tiles matter once the arithmetic is fast. */
#include "matmul.h"

#include <stdlib.h>

enum { LINE_FLOATS = 16, MAX_EDGE = 1 << 20 };

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
    ptrdiff_t edge = LINE_FLOATS;
    while ((size_t)(edge + LINE_FLOATS) * (size_t)(edge + LINE_FLOATS) <= l1 / 2)
        edge += LINE_FLOATS;
    tiles t;
    t.kb = env_edge("KL_BLOCKED_KB", edge);
    t.nb = env_edge("KL_BLOCKED_NB", edge);
    t.mb = env_edge("KL_BLOCKED_MB", whole_lines(l2 / 2 / (size_t)t.kb));
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
                    for (ptrdiff_t p = pc; p < p_end; p++) {
                        const float *b = B + p * ldb + jc;
                        const float a = alpha * A[i * lda + p];
                        for (ptrdiff_t j = 0; j < nc; j++) c[j] += a * b[j];
                    }
                }
            }
        }
    }
    return KL_OK;
    /* END SOLUTION */
}
