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

ptrdiff_t kl_ln_stream_min(void) {
    static volatile ptrdiff_t cached = -1;
    if (cached < 0) {
        const char *e = getenv("KL_LAYERNORM_NT_MIN");
        char *end = NULL;
        long long v = e ? strtoll(e, &end, 10) : -1;
        /* as relu's kl_relu_stream_min(): x + y = 8 x L2 (see modules/02_relu/README.md) */
        cached = (e && end != e && v >= 0) ? (ptrdiff_t)v : (ptrdiff_t)kl_cpu_cache_bytes(2);
    }
    return cached;
}
