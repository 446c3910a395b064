/* Rung 4: every core. n is cut into one contiguous span per thread (a multiple of 16 floats:
 * no two threads share a cache line of dx), each run by the best SIMD span kernel this CPU
 * has. Below the forward ReLU's team threshold (kl_relu_omp_min) it stays on the calling
 * thread: waking a team costs more than a small array takes. */
#include "relu_backward.h"

#ifdef _OPENMP
#include <omp.h>
#endif

typedef kl_status (*span_fn)(ptrdiff_t n, const float *y, const float *dy, float *dx);

static span_fn best_span(void) {
#ifdef KL_HAVE_SIMD
    if (kl_cpu_isa() >= KL_ISA_AVX512) return kl_relu_backward_span_avx512;
    if (kl_cpu_isa() >= KL_ISA_AVX2) return kl_relu_backward_span_avx2;
#endif
    return kl_relu_backward_naive;
}

kl_status kl_relu_backward_openmp(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    /* BEGIN SOLUTION */
    span_fn span = best_span();
    int threads = kl_threads();
    if (threads <= 1 || n < kl_relu_omp_min(threads)) return span(n, y, dy, dx);
    int worst = KL_OK;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(max : worst)
    {
        ptrdiff_t nt = omp_get_num_threads(), id = omp_get_thread_num();
        ptrdiff_t per = ((n + nt - 1) / nt + 15) & ~(ptrdiff_t)15;
        ptrdiff_t lo = id * per, hi = lo + per < n ? lo + per : n;
        if (lo < hi) worst = (int)span(hi - lo, y + lo, dy + lo, dx + lo);
    }
#else
    worst = (int)span(n, y, dy, dx);
#endif
    return (kl_status)worst;
    /* END SOLUTION */
}
