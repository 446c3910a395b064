/* Rung 3: every core, each thread a contiguous range of columns (a multiple of 16: no shared
 * cache lines of db) run by the AVX2 rung. Columns are independent sums, so any split gives
 * the same bits as one thread, and no thread waits for another's partial sums. Below
 * kl_relu_omp_min() elements of dy it stays on the calling thread. */
#include "bias_backward.h"

#ifdef _OPENMP
#include <omp.h>
#endif

kl_status kl_bias_backward_openmp(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                                  float *db) {
    /* BEGIN SOLUTION */
    int threads = kl_threads();
    if (threads <= 1 || cols < 32 || (double)rows * (double)cols < (double)kl_relu_omp_min(threads))
        return kl_bias_backward_span_avx2(rows, cols, dy, ldy, db);
    int worst = KL_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(max : worst)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        ptrdiff_t per = ((cols + nt - 1) / nt + 15) & ~(ptrdiff_t)15;
        ptrdiff_t lo = id * per, hi = lo + per < cols ? lo + per : cols;
        if (lo < hi) worst = (int)kl_bias_backward_span_avx2(rows, hi - lo, dy + lo, ldy, db + lo);
    }
#else
    worst = (int)kl_bias_backward_span_avx2(rows, cols, dy, ldy, db);
#endif
    return (kl_status)worst;
    /* END SOLUTION */
}
