/* Internal to kernels/layernorm/: the per-row kernels every rung shares, and the pieces of
 * arithmetic they have in common. One row is x[cols] -> y[cols], mean, rstd.
 *
 * Statistics, never E[x^2] - E[x]^2:
 * - blocked (scalar): the row is cut into chunks of kl_ln_chunk() floats (a quarter of L1d).
 *   Each chunk is read twice while it sits in L1: once for its mean (summing x - x[first],
 *   so float lanes hold small numbers even for rows of 1e4 + noise), once for its squared
 *   deviations around that mean. Chunks are merged in double with Chan's pairwise update.
 * - avx2 / avx512: one pass for sum d and sum d^2, d = x - s with s the mean of the row's
 *   first 8 floats, and a second, centred pass only for rows where s turns out to be more
 *   than one std from the mean (avx2.c explains the error bound). Rows go in pairs
 *   while they sit in L2; past it one at a time, or in blocks when a row is too wide for L1
 *   (kl_ln_rows_path).
 * Float lane sums are folded into double every few hundred floats. Then one more pass
 * writes y. */
#ifndef KL_LN_ROW_H
#define KL_LN_ROW_H

#include "layernorm.h"

#include <math.h>

typedef kl_status (*kl_ln_row_fn)(ptrdiff_t cols, const float *x, const float *g, const float *b,
                             float eps, float *y, float *mean, float *rstd, ptrdiff_t chunk,
                             int stream);

/* Row kernels, by ISA; KL_OK (a student stub returns KL_EUNSUPPORTED). mean and rstd are
 * never NULL here. stream: write y with non-temporal stores (only if y != x). */
kl_status kl_ln_row_scalar(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                      float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream);
kl_status kl_ln_row_avx2(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                    float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream);
kl_status kl_ln_row_avx512(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                      float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream);
/* Runs of rows, by ISA: the SIMD rungs take rows two at a time while they sit in L2 (one
 * pass c for both, so gamma and beta are loaded once per two rows), one at a time or in
 * blocks past it (kl_ln_rows_path). The scalar one is a loop of kl_ln_row_scalar. */
kl_status kl_ln_rows_scalar(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                            const float *b, float eps, float *y, float *mean, float *rstd,
                            ptrdiff_t chunk, int stream);
kl_status kl_ln_rows_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                          const float *b, float eps, float *y, float *mean, float *rstd,
                          ptrdiff_t chunk, int stream);
kl_status kl_ln_rows_avx512(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                            const float *b, float eps, float *y, float *mean, float *rstd,
                            ptrdiff_t chunk, int stream);
/* One SIMD ISA's row pieces, for kl_ln_rows_in_blocks: a row's mean and rstd (0 when the row
 * must take kl_ln_row_exact; inv = 1.0 / cols), and y for n floats of a row from them. */
typedef struct {
    int (*stats)(ptrdiff_t cols, double inv, const float *x, float eps, float *m, float *r);
    void (*normalize)(ptrdiff_t n, const float *x, const float *g, const float *b, float mu,
                      float r, float *y, int stream);
} kl_ln_row_ops;
/* The BLOCKS walk (kl_ln_rows_path, layernorm.h): per block of kl_ln_block_rows(cols) rows,
 * every row's statistics, then y one chunk of kl_ln_block_cols() columns at a time across the
 * block, so each chunk of gamma and beta is loaded from L2 once per block, not once per row. */
kl_status kl_ln_rows_in_blocks(const kl_ln_row_ops *ops, ptrdiff_t rows, ptrdiff_t cols,
                               const float *x, const float *g, const float *b, float eps,
                               float *y, float *mean, float *rstd, int stream);
/* The careful fallback, as naive.c does it, all in double: used for rows whose fast
 * statistics are not finite (a NaN/Inf in the row, or float overflow) or whose variance is
 * so small that float squares lose bits to underflow. Matches the oracle's NaN/Inf rule. */
void kl_ln_row_exact(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                     float *y, float *mean, float *rstd);

/* Running (count, mean, M2) of the chunks seen so far; Chan et al.'s pairwise merge. */
typedef struct { double n, mean, m2; } kl_ln_acc;

static inline void kl_ln_merge(kl_ln_acc *a, double n, double mean, double m2) {
    /* BEGIN SOLUTION */
    double tot = a->n + n, delta = mean - a->mean;
    a->mean += delta * (n / tot);
    a->m2 += m2 + delta * delta * (a->n * n / tot);
    a->n = tot;
    /* END SOLUTION */
}

/* mean and rstd as floats; 0 when the row must take kl_ln_row_exact instead. */
static inline int kl_ln_finish(const kl_ln_acc *a, float eps, float *m, float *r) {
    /* BEGIN SOLUTION */
    double var = a->m2 / a->n;
    if (!isfinite(a->mean) || !isfinite(var) || var < 1e-28) return 0;
    *m = (float)a->mean;
    *r = (float)(1.0 / sqrt(var + eps));
    return 1;
    /* END SOLUTION */
}

#endif
