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
 * L2 (or streamed) the pair loop draws four streams from beyond L2 at once (two rows of x
 * read, two of y written, each store reading its line first), so rows leave it:
 * - SINGLY when a row, gamma and beta fit half of L1 (the rest for y's lines): the statistics
 *   pass reads one row into L1, then y is written from L1, one stream per loop;
 * - BLOCKS when they do not (4096 floats of gamma and beta alone fill a 32 KiB L1): one row
 *   at a time would fetch all of gamma and beta from L2 again for every row, evicting the row
 *   itself. A block's x sits in L2 and each chunk of gamma and beta is fetched once per block.
 * In place, x and y are the same lines. scripts/bench.sh's layernorm table shows the shapes
 * beside traffic_1pass. (rows * cols * 8 fits: the entry point has checked rows * cols * 4.) */
static kl_ln_path unpaired(ptrdiff_t cols, size_t l1) {
    size_t row_bytes = 3 * (size_t)cols * sizeof(float); /* x, gamma, beta */
    return row_bytes <= l1 / 2 ? KL_LN_SINGLY : KL_LN_BLOCKS;
}

kl_ln_path kl_ln_rows_path_rule(ptrdiff_t rows, ptrdiff_t cols, int in_place, int stream,
                                size_t l1, size_t l2) {
    size_t call_bytes = (in_place ? 1u : 2u) * (size_t)rows * (size_t)cols * sizeof(float);
    return !stream && call_bytes <= l2 ? KL_LN_PAIRS : unpaired(cols, l1);
}

kl_ln_path kl_ln_rows_path(ptrdiff_t rows, ptrdiff_t cols, int in_place, int stream) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    ptrdiff_t v = kl_env_size("KL_LAYERNORM_SINGLE_MIN", 0, PTRDIFF_MAX, &env);
    if (v < 0)
        return kl_ln_rows_path_rule(rows, cols, in_place, stream, kl_cpu_cache_bytes(1),
                                    kl_cpu_cache_bytes(2));
    /* the environment moves the end of the pairs; the row's width still picks what follows */
    return !stream && rows * cols < v ? KL_LN_PAIRS : unpaired(cols, kl_cpu_cache_bytes(1));
}

/* Measured on Zen 4 (32 KiB L1, 1 MiB L2) at 512 x 4096: blocks of 8 to 16 rows and chunks
 * of 512 to 1024 floats ran alike; 4 rows, or chunks that fill half of L1, ran slower. */
ptrdiff_t kl_ln_block_rows_rule(ptrdiff_t cols, size_t l2) {
    ptrdiff_t k = (ptrdiff_t)(l2 / 8 / ((size_t)(cols > 0 ? cols : 1) * sizeof(float)));
    return k < 2 ? 2 : k > KL_LN_BLOCK_ROWS_MAX ? KL_LN_BLOCK_ROWS_MAX : k;
}

ptrdiff_t kl_ln_block_rows(ptrdiff_t cols) {
    return kl_ln_block_rows_rule(cols, kl_cpu_cache_bytes(2));
}

ptrdiff_t kl_ln_block_cols_rule(size_t l1) {
    ptrdiff_t c = (ptrdiff_t)(l1 / 4 / (2 * sizeof(float))) & ~(ptrdiff_t)63;
    return c < 64 ? 64 : c; /* a multiple of every vector width */
}

ptrdiff_t kl_ln_block_cols(void) {
    static volatile ptrdiff_t cached = -1; /* benign race: every thread computes the same */
    if (cached < 0) cached = kl_ln_block_cols_rule(kl_cpu_cache_bytes(1));
    return cached;
}

kl_status kl_ln_rows_in_blocks(const kl_ln_row_ops *ops, ptrdiff_t rows, ptrdiff_t cols,
                               const float *x, const float *g, const float *b, float eps,
                               float *y, float *mean, float *rstd, int stream) {
    const ptrdiff_t block = kl_ln_block_rows(cols), width = kl_ln_block_cols();
    const double inv = 1.0 / (double)cols;
    float m[KL_LN_BLOCK_ROWS_MAX], r[KL_LN_BLOCK_ROWS_MAX];
    int ok[KL_LN_BLOCK_ROWS_MAX];
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += block) {
        const ptrdiff_t n = rows - r0 < block ? rows - r0 : block;
        const float *xb = x + r0 * cols;
        float *yb = y + r0 * cols;
        for (ptrdiff_t j = 0; j < n; j++) {
            ok[j] = ops->stats(cols, inv, xb + j * cols, eps, &m[j], &r[j]);
            if (!ok[j]) kl_ln_row_exact(cols, xb + j * cols, g, b, eps, yb + j * cols, &m[j], &r[j]);
        }
        for (ptrdiff_t c0 = 0; c0 < cols; c0 += width) {
            const ptrdiff_t w = cols - c0 < width ? cols - c0 : width;
            for (ptrdiff_t j = 0; j < n; j++)
                if (ok[j])
                    ops->normalize(w, xb + j * cols + c0, g + c0, b + c0, m[j], r[j],
                                   yb + j * cols + c0, stream);
        }
        for (ptrdiff_t j = 0; j < n; j++) {
            if (mean) mean[r0 + j] = m[j];
            if (rstd) rstd[r0 + j] = r[j];
        }
    }
    return KL_OK;
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
