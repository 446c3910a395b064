/* Rung 3: every core, each thread a contiguous span of parameters (a multiple of 16: no
 * shared cache lines) run by the AVX2 span. Elementwise, so any split gives the same bits.
 * Small calls stay on the calling thread (the ReLU team threshold, kl_relu_omp_min). */
#include "sgd_momentum.h"

#ifdef _OPENMP
#include <omp.h>
#endif

kl_status kl_sgd_momentum_openmp(ptrdiff_t n, float lr, float momentum, float weight_decay,
                                 float *w, const float *g, float *v) {
    /* BEGIN SOLUTION */
    int threads = kl_threads();
    if (threads <= 1 || n < kl_relu_omp_min(threads))
        return kl_sgd_momentum_span_avx2(n, lr, momentum, weight_decay, w, g, v);
    int worst = KL_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(max : worst)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        ptrdiff_t per = ((n + nt - 1) / nt + 15) & ~(ptrdiff_t)15;
        ptrdiff_t lo = id * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi)
            worst = (int)kl_sgd_momentum_span_avx2(hi - lo, lr, momentum, weight_decay, w + lo,
                                                   g + lo, v + lo);
    }
#else
    worst = (int)kl_sgd_momentum_span_avx2(n, lr, momentum, weight_decay, w, g, v);
#endif
    return (kl_status)worst;
    /* END SOLUTION */
}
