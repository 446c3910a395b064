/* layernorm_backward: dx, dgamma, dbeta from the saved mean and rstd (kernellab.h). */
#ifndef KL_LAYERNORM_BACKWARD_H
#define KL_LAYERNORM_BACKWARD_H

#include "variants.h"

#define KL_DECLARE_LAYERNORM_BACKWARD(fn)                                                    \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,         \
                 const float *mean, const float *rstd, const float *dy, float *dx,            \
                 float *dgamma, float *dbeta)

KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_naive);
KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_avx2);
KL_DECLARE_LAYERNORM_BACKWARD(kl_layernorm_backward_openmp);
size_t kl_layernorm_backward_openmp_scratch(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t unused,
                                            int threads);
/* Rows [r0, r1) of the AVX2 rung; dgamma, dbeta (may be NULL) are added to. */
void kl_layernorm_backward_rows_avx2(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t cols, const float *x,
                                     const float *gamma, const float *mean, const float *rstd,
                                     const float *dy, float *dx, float *dgamma, float *dbeta);

#endif
