/* ReLU, y[n] = max(x[n], 0): its rungs, the pieces they share, its thresholds and its dispatch.
 * Raw kernels: arguments already checked (variants.h). */
#ifndef KL_RELU_H
#define KL_RELU_H

#include "variants.h"

#define KL_DECLARE_RELU(fn) kl_status fn(ptrdiff_t n, const float *x, float *y)

KL_DECLARE_RELU(kl_relu_naive);
KL_DECLARE_RELU(kl_relu_blocked);
size_t kl_relu_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* strip length */
KL_DECLARE_RELU(kl_relu_avx2);
KL_DECLARE_RELU(kl_relu_avx512);
KL_DECLARE_RELU(kl_relu_openmp);

/* A span kernel: y[n] = relu(x[n]); stream: non-temporal stores for y (only when y != x). */
typedef kl_status (*kl_relu_span_fn)(ptrdiff_t n, const float *x, float *y, int stream);
kl_status kl_relu_span_scalar(ptrdiff_t n, const float *x, float *y, int stream);
kl_status kl_relu_span_avx2(ptrdiff_t n, const float *x, float *y, int stream);
kl_status kl_relu_span_avx512(ptrdiff_t n, const float *x, float *y, int stream);

/* The dispatch (relu.c): the best span kernel kl_cpu_isa() allows, chosen once. The openmp
 * rung runs it on every thread; the registry reports its ISA for that rung. */
typedef struct kl_relu_dsp {
    kl_isa isa;
    kl_relu_span_fn span;
} kl_relu_dsp;
const kl_relu_dsp *kl_relu_dispatch(void);
kl_isa kl_relu_dispatch_isa(void);

/* Thresholds and tunables (relu.c), in floats:
 * the strip of the blocked rung (half of L1d: a strip of x and of y fit together);
 * the out-of-place size from which y is streamed (tuning.c's rule; env KL_RELU_NT_MIN);
 * the size from which the openmp rung wakes its team of `threads` (measured, tuning.c's
 * kl_team_min_bytes; env KL_RELU_OMP_MIN). */
ptrdiff_t kl_relu_strip(void);
ptrdiff_t kl_relu_stream_min(void);
ptrdiff_t kl_relu_omp_min(int threads);

#endif
