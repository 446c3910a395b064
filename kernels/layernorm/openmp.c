/* Rung 5: rows shared out among threads (static schedule: rows cost the same), each thread's
 * block of rows run by the best rows kernel this CPU has (AVX-512 or AVX2, rows in pairs or,
 * past L2, one at a time or in blocks; else the scalar blocked row), from LayerNorm's dispatch
 * table (common.c). Rows are independent, so there is no reduction across threads; a row is
 * never split. Below kl_layernorm_omp_min(threads) floats in all, or with one row, it runs on
 * the calling thread (waking a team costs microseconds); env KL_LAYERNORM_OMP_MIN overrides. y
 * is streamed once x + y pass L3 (kl_ln_stream_min(), tuning.c). */
#include "ln_row.h"

#include <xmmintrin.h> /* _mm_sfence: SSE, in every x86-64 */
#ifdef _OPENMP
#include <omp.h>
#endif

/* rows [r0, r1), then the fence that orders streamed stores */
static inline kl_status rows_range(kl_ln_rows_fn rows_fn, ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t cols,
                                   const float *x, const float *gamma, const float *beta,
                                   float eps, float *y, float *mean, float *rstd, ptrdiff_t chunk,
                                   int stream) {
    kl_status st = rows_fn(r1 - r0, cols, x + r0 * cols, gamma, beta, eps, y + r0 * cols,
                           mean ? mean + r0 : NULL, rstd ? rstd + r0 : NULL, chunk, stream);
    if (stream) _mm_sfence();
    return st;
}

kl_status kl_layernorm_openmp(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                              const float *beta, float eps, float *y, float *mean, float *rstd) {
    /* BEGIN SOLUTION */
    kl_ln_rows_fn row = kl_layernorm_dispatch()->rows;
    ptrdiff_t chunk = kl_ln_chunk();
    int threads = kl_threads();
    int stream = x != y && rows * cols >= kl_ln_stream_min();
    if (threads <= 1 || rows < 2 || rows * cols < kl_layernorm_omp_min(threads))
        return rows_range(row, 0, rows, cols, x, gamma, beta, eps, y, mean, rstd, chunk, stream);
    int worst = KL_OK; /* the largest status any thread saw (KL_OK is 0) */
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(max : worst)
    {
        /* contiguous blocks of rows: each thread streams its own part of x and y */
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        ptrdiff_t r0 = rows * id / nt, r1 = rows * (id + 1) / nt;
        worst = (int)rows_range(row, r0, r1, cols, x, gamma, beta, eps, y, mean, rstd, chunk, stream);
    }
#else
    worst = (int)rows_range(row, 0, rows, cols, x, gamma, beta, eps, y, mean, rstd, chunk, stream);
#endif
    return (kl_status)worst;
    /* END SOLUTION */
}
