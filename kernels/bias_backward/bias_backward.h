/* bias_backward: column sums (kernellab.h). The span is the openmp rung's worker. */
#ifndef KL_BIAS_BACKWARD_H
#define KL_BIAS_BACKWARD_H

#include "variants.h"

#define KL_DECLARE_BIAS_BACKWARD(fn) \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy, float *db)

KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_naive);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_avx2);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_openmp);
KL_DECLARE_BIAS_BACKWARD(kl_bias_backward_span_avx2);

#include "relu/relu.h" /* kl_relu_omp_min(threads): the size from which a team pays */

#endif
