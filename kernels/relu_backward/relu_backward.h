/* relu_backward: dx = dy where y > 0 (kernellab.h). The spans are the openmp rung's workers. */
#ifndef KL_RELU_BACKWARD_H
#define KL_RELU_BACKWARD_H

#include "variants.h"

#define KL_DECLARE_RELU_BACKWARD(fn) \
    kl_status fn(ptrdiff_t n, const float *y, const float *dy, float *dx)

KL_DECLARE_RELU_BACKWARD(kl_relu_backward_naive);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_avx2);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_avx512);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_openmp);
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_span_avx2);   /* the openmp rung's spans */
KL_DECLARE_RELU_BACKWARD(kl_relu_backward_span_avx512);

#include "relu/relu.h" /* kl_relu_omp_min(threads): the size from which a team pays */

#endif
