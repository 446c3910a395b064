/* LayerNorm, y = (x - mean) rstd gamma + beta per row: its rungs, thresholds, tunables and
 * dispatch. The row kernels the rungs share, and their arithmetic, are in ln_row.h.
 * Raw kernels: arguments already checked (variants.h; eps > 0). */
#ifndef KL_LAYERNORM_H
#define KL_LAYERNORM_H

#include "variants.h"

#define KL_DECLARE_LAYERNORM(fn)                                                             \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,        \
                 const float *beta, float eps, float *y, float *mean, float *rstd)

KL_DECLARE_LAYERNORM(kl_layernorm_naive);
KL_DECLARE_LAYERNORM(kl_layernorm_welford);
KL_DECLARE_LAYERNORM(kl_layernorm_blocked);
size_t kl_layernorm_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* stats chunk (floats) */
KL_DECLARE_LAYERNORM(kl_layernorm_avx2);
KL_DECLARE_LAYERNORM(kl_layernorm_avx512);
KL_DECLARE_LAYERNORM(kl_layernorm_openmp);

/* rows consecutive rows x[rows][cols] -> y; mean/rstd may be NULL (then not written).
 * stream: write y with non-temporal stores (only if y != x). */
typedef kl_status (*kl_ln_rows_fn)(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                                   const float *b, float eps, float *y, float *mean, float *rstd,
                                   ptrdiff_t chunk, int stream);

/* The dispatch (common.c): the best rows kernel kl_cpu_isa() allows (AVX-512 or AVX2, walking rows
 * as kl_ln_rows_path says; else the scalar blocked row), chosen once. The openmp rung runs it on
 * every thread; the registry reports its ISA for that rung. */
typedef struct kl_layernorm_dsp {
    kl_isa isa;
    kl_ln_rows_fn rows;
} kl_layernorm_dsp;
const kl_layernorm_dsp *kl_layernorm_dispatch(void);
kl_isa kl_layernorm_dispatch_isa(void);

/* Thresholds and tunables (common.c), in floats:
 * the statistics chunk (a quarter of L1d);
 * rows*cols from which out-of-place y is streamed (tuning.c's rule; env KL_LAYERNORM_NT_MIN);
 * rows*cols from which the openmp rung wakes its team of `threads` (measured, tuning.c's
 * kl_team_min_bytes; env KL_LAYERNORM_OMP_MIN);
 * how one call's rows are walked, below (from L2 and L1; env KL_LAYERNORM_SINGLE_MIN, in
 * rows*cols, overrides where they stop going in pairs); in_place: y is x. */
ptrdiff_t kl_ln_chunk(void);
ptrdiff_t kl_ln_stream_min(void);
ptrdiff_t kl_layernorm_omp_min(int threads);

/* How a SIMD rows kernel walks a call's rows:
 * PAIRS:  two at a time, the next pair's statistics in the same loop as this pair's y (in L2);
 * SINGLY: one at a time, y written from L1 (past L2 or streamed, a row with gamma and beta in
 *         half of L1);
 * BLOCKS: the statistics of a block of rows, then y one column chunk at a time across the
 *         block (past L2 or streamed, a row with gamma and beta too wide for half of L1). */
typedef enum { KL_LN_PAIRS, KL_LN_SINGLY, KL_LN_BLOCKS } kl_ln_path;
kl_ln_path kl_ln_rows_path(ptrdiff_t rows, ptrdiff_t cols, int in_place, int stream);
/* its rule for given L1d and L2 sizes (bytes), without the environment */
kl_ln_path kl_ln_rows_path_rule(ptrdiff_t rows, ptrdiff_t cols, int in_place, int stream,
                                size_t l1, size_t l2);
/* BLOCKS' geometry: rows per block (their x in an eighth of L2) and the column chunk (gamma's
 * and beta's chunks in a quarter of L1), in floats; the _rule forms take the cache sizes. */
enum { KL_LN_BLOCK_ROWS_MAX = 64 };
ptrdiff_t kl_ln_block_rows(ptrdiff_t cols);
ptrdiff_t kl_ln_block_rows_rule(ptrdiff_t cols, size_t l2);
ptrdiff_t kl_ln_block_cols(void);
ptrdiff_t kl_ln_block_cols_rule(size_t l1);

#endif
