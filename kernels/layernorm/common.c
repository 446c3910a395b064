/* Shared by the LayerNorm rungs (layernorm.h, ln_row.h): the exact fallback row, the dispatch
 * table, and the thresholds. */
#include "ln_row.h"


void kl_ln_row_exact(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                     float *y, float *mean, float *rstd) {
    double sum = 0.0, sq = 0.0;
    for (ptrdiff_t c = 0; c < cols; c++) sum += x[c];
    double mu = sum / (double)cols;
    for (ptrdiff_t c = 0; c < cols; c++) sq += (x[c] - mu) * (x[c] - mu);
    float m = (float)mu, s = (float)(1.0 / sqrt(sq / (double)cols + eps));
    for (ptrdiff_t c = 0; c < cols; c++) y[c] = (x[c] - m) * s * g[c] + b[c];
    *mean = m;
    *rstd = s;
}

ptrdiff_t kl_ln_chunk(void) {
    static volatile ptrdiff_t cached = -1; /* benign race: every thread computes the same */
    if (cached < 0) {
        ptrdiff_t c = (ptrdiff_t)(kl_cpu_cache_bytes(1) / 4 / sizeof(float));
        cached = c < 256 ? 256 : c & ~(ptrdiff_t)63; /* a multiple of every vector width */
    }
    return cached;
}

ptrdiff_t kl_ln_stream_min(void) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    return kl_env_or("KL_LAYERNORM_NT_MIN", kl_stream_min_default(), &env);
}

/* Rows in pairs (pair_step in avx2.c) overlap the next pair's statistics with this pair's
 * output: that pays while the rows sit in L2, where the kernel is bound by instructions. Past
 * L2 the pair loop draws four streams from beyond L2 at once (two rows of x read, two of y
 * written, each store reading its line first), and a row at a time does better: its statistics
 * pass reads one stream into L1, then y is written from L1, one stream per loop. That needs
 * the row, gamma and beta to stay in L1 between the two passes: at most half of it, the rest
 * for y's lines. In place, x and y are the same lines. scripts/bench.sh's layernorm table
 * shows both sides of the switch, beside traffic_1pass. (rows * cols * 8 fits: the entry
 * point has checked rows * cols * 4.) */
int kl_ln_rows_singly_rule(ptrdiff_t rows, ptrdiff_t cols, int in_place, size_t l1, size_t l2) {
    size_t row_bytes = 3 * (size_t)cols * sizeof(float); /* x, gamma, beta */
    size_t call_bytes = (in_place ? 1u : 2u) * (size_t)rows * (size_t)cols * sizeof(float);
    return row_bytes <= l1 / 2 && call_bytes > l2;
}

int kl_ln_rows_singly(ptrdiff_t rows, ptrdiff_t cols, int in_place) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    ptrdiff_t v = kl_env_size("KL_LAYERNORM_SINGLE_MIN", 0, PTRDIFF_MAX, &env);
    if (v >= 0) return rows * cols >= v;
    return kl_ln_rows_singly_rule(rows, cols, in_place, kl_cpu_cache_bytes(1),
                                  kl_cpu_cache_bytes(2));
}

/* Waking a team costs microseconds: below this many floats the openmp rung runs on the calling
 * thread. The size is this machine's break-even for a kernel at copy speed (kl_team_min_bytes,
 * tuning.c; about 8 bytes per float): LayerNorm is slower per byte than a copy, so its own
 * break-even comes at or before it. */
ptrdiff_t kl_layernorm_omp_min(int threads) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    ptrdiff_t v = kl_env_size("KL_LAYERNORM_OMP_MIN", 0, PTRDIFF_MAX, &env);
    return v >= 0 ? v : (ptrdiff_t)(kl_team_min_bytes(threads) / 8);
}

static kl_layernorm_dsp fill(void) {
    kl_layernorm_dsp d = {KL_ISA_SCALAR, kl_ln_rows_scalar};
#ifdef KL_HAVE_SIMD
    if (kl_cpu_isa() >= KL_ISA_AVX2) d = (kl_layernorm_dsp){KL_ISA_AVX2, kl_ln_rows_avx2};
    if (kl_cpu_isa() >= KL_ISA_AVX512) d = (kl_layernorm_dsp){KL_ISA_AVX512, kl_ln_rows_avx512};
#endif
    return d;
}

KL_DISPATCH_TABLE(kl_layernorm_dsp, kl_layernorm_dispatch, fill)

kl_isa kl_layernorm_dispatch_isa(void) { return kl_layernorm_dispatch()->isa; }
