/* softmax_xent: the mean cross-entropy of softmax and its gradient (kernellab.h). */
#ifndef KL_SOFTMAX_XENT_H
#define KL_SOFTMAX_XENT_H

#include "variants.h"

#define KL_DECLARE_SOFTMAX_XENT(fn)                                                          \
    kl_status fn(ptrdiff_t rows, ptrdiff_t cols, const float *logits, const int *labels,     \
                 float *loss, float *dlogits)

KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_naive);
KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_avx2);
KL_DECLARE_SOFTMAX_XENT(kl_softmax_xent_openmp);
/* One row's loss; its gradient times scale into d unless NULL (naive.c, avx2.c). */
float kl_softmax_xent_row(ptrdiff_t cols, const float *z, int label, float scale, float *d);
float kl_softmax_xent_row_avx2(ptrdiff_t cols, const float *z, int label, float scale, float *d);

#endif
