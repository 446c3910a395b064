/* Rung 3: every core. Rows are split into one contiguous block per thread, each run by the
 * AVX2 rows kernel. dgamma and dbeta are sums over ALL rows: each thread adds its rows into
 * its own partial columns (scratch: threads x 2 x cols floats), and the calling thread adds
 * the partials in thread order afterwards, so a fixed thread count always gives the same bits
 * (no atomics, no order that depends on who finishes first). Below TEAM_MIN elements it runs
 * on the calling thread without scratch. */
#include "layernorm_backward.h"

#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* x, dy and dx are three streams per element: a team pays from a smaller size than ReLU's. */
#define TEAM_MIN ((ptrdiff_t)1 << 14)

static int team_size(ptrdiff_t rows, ptrdiff_t cols, int threads) {
    if (threads <= 1 || rows < 2 || rows * cols < TEAM_MIN) return 1;
    return rows < threads ? (int)rows : threads;
}

static size_t partial_floats(ptrdiff_t cols) { /* per thread, rounded to a cache line */
    return ((size_t)(2 * cols) + 15) & ~(size_t)15;
}

size_t kl_layernorm_backward_openmp_scratch(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t unused,
                                            int threads) {
    (void)unused;
    int t = team_size(rows, cols, threads > 0 ? threads : kl_threads());
    return t > 1 && rows > 0 && cols > 0 ? (size_t)t * partial_floats(cols) * sizeof(float) : 0;
}

kl_status kl_layernorm_backward_openmp(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                       const float *gamma, const float *mean, const float *rstd,
                                       const float *dy, float *dx, float *dgamma, float *dbeta) {
    /* BEGIN SOLUTION */
    int threads = team_size(rows, cols, kl_threads());
    if (threads == 1)
        return kl_layernorm_backward_avx2(rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
    size_t per = partial_floats(cols);
    float *part = NULL;
    if (dgamma || dbeta) {
        part = aligned_alloc(64, (size_t)threads * per * sizeof(float));
        if (!part) return KL_ENOMEM; /* nothing written yet */
        memset(part, 0, (size_t)threads * per * sizeof(float));
    }
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
    for (ptrdiff_t id = 0, nt = threads; id < nt; id++) {
#endif
        ptrdiff_t r0 = rows * id / nt, r1 = rows * (id + 1) / nt;
        float *pg = part && dgamma ? part + (size_t)id * per : NULL;
        float *pb = part && dbeta ? part + (size_t)id * per + cols : NULL;
        kl_layernorm_backward_rows_avx2(r0, r1, cols, x, gamma, mean, rstd, dy, dx, pg, pb);
    }
    /* Partials of threads that did not start (nt < threads) are still 0: adding them is exact. */
    for (ptrdiff_t c = 0; part && c < cols; c++) {
        float g = 0.0f, b = 0.0f;
        for (int t = 0; t < threads; t++) {
            g += part[(size_t)t * per + (size_t)c];
            b += part[(size_t)t * per + (size_t)(cols + c)];
        }
        if (dgamma) dgamma[c] = g;
        if (dbeta) dbeta[c] = b;
    }
    free(part);
    return KL_OK;
    /* END SOLUTION */
}
