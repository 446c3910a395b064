/* Rung 4: every core. x[n] is cut into one contiguous span per thread (a multiple of 16
 * floats, so no two threads share a cache line of y), and each span runs the best span kernel
 * this CPU has (AVX-512, AVX2, else scalar), from ReLU's dispatch table (relu.c).
 *
 * Below kl_relu_omp_min(threads) floats it runs on the calling thread: waking a team costs a few
 * microseconds, more than a small array takes (relu.c; env KL_RELU_OMP_MIN overrides). */
#include "relu.h"

#ifdef _OPENMP
#include <omp.h>
#endif

kl_status kl_relu_openmp(ptrdiff_t n, const float *x, float *y) {
    /* BEGIN SOLUTION */
    kl_relu_span_fn span = kl_relu_dispatch()->span;
    int threads = kl_threads();
    int stream = x != y && n >= kl_relu_stream_min();
    if (threads <= 1 || n < kl_relu_omp_min(threads)) return span(n, x, y, stream);
    int worst = KL_OK; /* the largest status any thread saw (KL_OK is 0) */
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(max : worst)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        ptrdiff_t per = ((n + nt - 1) / nt + 15) & ~(ptrdiff_t)15;
        ptrdiff_t lo = id * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi) worst = (int)span(hi - lo, x + lo, y + lo, stream);
    }
#else
    worst = (int)span(n, x, y, stream);
#endif
    return (kl_status)worst;
    /* END SOLUTION */
}
