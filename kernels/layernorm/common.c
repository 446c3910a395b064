/* Shared by the LayerNorm rungs (see ln_row.h): the exact fallback row, the chunk length,
 * and the streaming threshold. */
#include "ln_row.h"

#include <stdlib.h>

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

/* Out-of-place calls of at least this many floats write y with non-temporal stores.
 * - One thread: L2-bytes floats, x + y = 8 x L2 (512 Ki floats on Zen 3), as relu's
 *   kl_relu_stream_min (modules/02_relu/README.md): from there one core cannot keep enough
 *   read-for-ownership misses of y in flight, and bypassing the caches wins.
 * - A team: x + y = L3 (4 Mi floats with a 32 MiB L3). Two cores pull L3 lines fast enough
 *   that keeping y in L3 beats streaming it to DRAM for as long as x and y fit there
 *   (modules/03_layernorm/README.md has the measurement).
 * Env KL_LAYERNORM_NT_MIN overrides both. */
ptrdiff_t kl_ln_stream_min(int threads) {
    static volatile ptrdiff_t env = -2, l3 = -1; /* -2 unread, -1 unset; benign races */
    if (env == -2) {
        const char *e = getenv("KL_LAYERNORM_NT_MIN");
        char *end = NULL;
        long long v = e ? strtoll(e, &end, 10) : -1;
        env = (e && end != e && v >= 0) ? (ptrdiff_t)v : -1;
    }
    if (env >= 0) return env;
    if (threads <= 1) return (ptrdiff_t)kl_cpu_cache_bytes(2);
    if (l3 < 0) l3 = (ptrdiff_t)(kl_cpu_cache_bytes(3) / 8);
    return l3;
}
