/* Rung 3: every core, each thread a contiguous block of rows run by the AVX2 row kernel.
 * Each thread sums its rows' losses (double), and the partial sums are added in thread order:
 * a fixed thread count always gives the same loss. Below TEAM_MIN logits it stays on the
 * calling thread (a batch of 128 x 10 is far below: a team would cost more than the rows). */
#include "softmax_xent.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#define TEAM_MIN ((ptrdiff_t)1 << 14)
#define MAX_TEAM 256

kl_status kl_softmax_xent_openmp(ptrdiff_t rows, ptrdiff_t cols, const float *logits,
                                 const int *labels, float *loss, float *dlogits) {
    /* BEGIN SOLUTION */
    int threads = kl_threads();
    if (threads > MAX_TEAM) threads = MAX_TEAM;
    if (threads > rows) threads = (int)rows;
    if (threads <= 1 || rows * cols < TEAM_MIN)
        return kl_softmax_xent_avx2(rows, cols, logits, labels, loss, dlogits);
    double part[MAX_TEAM] = {0};
    float scale = 1.0f / (float)rows;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
#else
    for (ptrdiff_t id = 0, nt = threads; id < nt; id++) {
#endif
        ptrdiff_t r0 = rows * id / nt, r1 = rows * (id + 1) / nt;
        double s = 0.0;
        for (ptrdiff_t r = r0; r < r1; r++)
            s += kl_softmax_xent_row_avx2(cols, logits + r * cols, labels[r], scale,
                                          dlogits ? dlogits + r * cols : NULL);
        part[id] = s;
    }
    double total = 0.0;
    for (int t = 0; t < threads; t++) total += part[t];
    *loss = (float)(total / (double)rows);
    return KL_OK;
    /* END SOLUTION */
}
