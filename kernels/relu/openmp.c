/* Rung 4: every core. x[n] is cut into one contiguous span per thread (a multiple of 16
 * floats, so no two threads share a cache line of y), and each span runs the best SIMD
 * span kernel this CPU has (AVX-512, AVX2, else scalar), chosen at run time.
 *
 * Below kl_relu_omp_min() floats it runs on the calling thread: waking a team costs a few
 * microseconds, more than a small array takes. The default was measured (see
 * modules/02_relu/README.md, "OpenMP threshold"); env KL_RELU_OMP_MIN overrides it. */
#include "variants.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Measured (modules/02_relu/README.md): avx2 on 1 thread against this rung on 2, median of
 * interleaved calls, n = 4 Ki..512 Ki floats: 2 threads lose below 32 Ki floats (0.4x at
 * 4 Ki: ~2 us to wake the team), break even at 32 Ki (0.98-1.05x), and win from 64 Ki
 * (1.04-1.12x, then 1.3-1.6x from 128 Ki). The default is the crossover, 32 Ki. */
#define KL_RELU_OMP_MIN_DEFAULT ((ptrdiff_t)1 << 15)

ptrdiff_t kl_relu_omp_min(void) {
    static volatile ptrdiff_t env = -2;
    ptrdiff_t v = kl_env_size("KL_RELU_OMP_MIN", &env);
    return v >= 0 ? v : KL_RELU_OMP_MIN_DEFAULT;
}

typedef kl_status (*span_fn)(ptrdiff_t n, const float *x, float *y, int stream);

static inline kl_status span_scalar(ptrdiff_t n, const float *x, float *y, int stream) {
    /* BEGIN SOLUTION */
    (void)stream;
    for (ptrdiff_t i = 0; i < n; i++) y[i] = !(x[i] <= 0.0f) ? x[i] : 0.0f;
    return KL_OK;
    /* END SOLUTION */
}

static inline span_fn best_span(void) {
#ifdef KL_HAVE_SIMD
    if (kl_cpu_isa() >= KL_ISA_AVX512) return kl_relu_span_avx512;
    if (kl_cpu_isa() >= KL_ISA_AVX2) return kl_relu_span_avx2;
#endif
    return span_scalar;
}

kl_status kl_relu_openmp(ptrdiff_t n, const float *x, float *y) {
    /* BEGIN SOLUTION */
    span_fn span = best_span();
    int threads = kl_threads();
    if (threads <= 1 || n < kl_relu_omp_min())
        return span(n, x, y, x != y && n >= kl_relu_stream_min(1));
    int stream = x != y && n >= kl_relu_stream_min(threads); /* a team streams later */
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
