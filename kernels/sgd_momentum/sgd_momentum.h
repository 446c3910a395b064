/* sgd_momentum: PyTorch's SGD with momentum (kernellab.h). The span is the openmp rung's worker. */
#ifndef KL_SGD_MOMENTUM_H
#define KL_SGD_MOMENTUM_H

#include "variants.h"

#define KL_DECLARE_SGD_MOMENTUM(fn)                                                          \
    kl_status fn(ptrdiff_t n, float lr, float momentum, float weight_decay, float *w,        \
                 const float *g, float *v)

KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_naive);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_avx2);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_openmp);
KL_DECLARE_SGD_MOMENTUM(kl_sgd_momentum_span_avx2);

#include "relu/relu.h" /* kl_relu_omp_min(threads): the size from which a team pays */

#endif
