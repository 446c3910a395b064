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

/* The dispatch (common.c): the best rows kernel kl_cpu_isa() allows (AVX-512 or AVX2, rows in
 * pairs; else the scalar blocked row), chosen once. The openmp rung runs it on every thread;
 * the registry reports its ISA for that rung. */
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
 * whether one call's rows go one at a time instead of in pairs (from L2 and L1; env
 * KL_LAYERNORM_SINGLE_MIN, in rows*cols, overrides); in_place: y is x. */
ptrdiff_t kl_ln_chunk(void);
ptrdiff_t kl_ln_stream_min(void);
ptrdiff_t kl_layernorm_omp_min(int threads);
int kl_ln_rows_singly(ptrdiff_t rows, ptrdiff_t cols, int in_place);
/* its rule for given L1d and L2 sizes (bytes), without the environment */
int kl_ln_rows_singly_rule(ptrdiff_t rows, ptrdiff_t cols, int in_place, size_t l1, size_t l2);

#endif
