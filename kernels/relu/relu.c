/* ReLU's shared pieces: the dispatch table and the thresholds every rung reads (relu.h). */
#include "relu.h"

kl_status kl_relu_span_scalar(ptrdiff_t n, const float *x, float *y, int stream) {
    /* BEGIN SOLUTION */
    (void)stream;
    for (ptrdiff_t i = 0; i < n; i++) y[i] = !(x[i] <= 0.0f) ? x[i] : 0.0f;
    return KL_OK;
    /* END SOLUTION */
}

static kl_relu_dsp fill(void) {
    kl_relu_dsp d = {KL_ISA_SCALAR, kl_relu_span_scalar};
#ifdef KL_HAVE_SIMD
    if (kl_cpu_isa() >= KL_ISA_AVX2) d = (kl_relu_dsp){KL_ISA_AVX2, kl_relu_span_avx2};
    if (kl_cpu_isa() >= KL_ISA_AVX512) d = (kl_relu_dsp){KL_ISA_AVX512, kl_relu_span_avx512};
#endif
    return d;
}

KL_DISPATCH_TABLE(kl_relu_dsp, kl_relu_dispatch, fill)

kl_isa kl_relu_dispatch_isa(void) { return kl_relu_dispatch()->isa; }

ptrdiff_t kl_relu_strip(void) {
    ptrdiff_t s = (ptrdiff_t)(kl_cpu_cache_bytes(1) / 2 / sizeof(float));
    return s < 64 ? 64 : s;
}

ptrdiff_t kl_relu_stream_min(void) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    return kl_env_or("KL_RELU_NT_MIN", kl_stream_min_default(), &env);
}

/* Waking a team costs microseconds, more than a small array takes on one core: below this size
 * the openmp rung runs on the calling thread. The size is this machine's break-even for a
 * kernel at copy speed (kl_team_min_bytes, tuning.c); ReLU moves 8 bytes per float. */
ptrdiff_t kl_relu_omp_min(int threads) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    ptrdiff_t v = kl_env_size("KL_RELU_OMP_MIN", 0, PTRDIFF_MAX, &env);
    return v >= 0 ? v : (ptrdiff_t)(kl_team_min_bytes(threads) / 8);
}
