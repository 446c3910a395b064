/* Shared by the LayerNorm rungs (see ln_row.h): the exact fallback row, the chunk length,
 * and the streaming threshold. */
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

/* Out-of-place calls of at least this many floats write y with non-temporal stores, by the
 * rule in kernels/tuning.c, which ReLU shares (x + y beyond 8 x L2 on one thread, beyond L3
 * for a team: two cores pull L3 lines fast enough that keeping y in L3 pays).
 * Env KL_LAYERNORM_NT_MIN overrides both. */
ptrdiff_t kl_ln_stream_min(int threads) {
    static volatile ptrdiff_t env = -2;
    ptrdiff_t v = kl_env_size("KL_LAYERNORM_NT_MIN", &env);
    return v >= 0 ? v : kl_stream_min_default(threads);
}
