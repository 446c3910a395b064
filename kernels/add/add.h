/* add, z[n] = x[n] + y[n] (a residual connection): its rungs. Raw kernels: arguments already
 * checked (variants.h; z may be x or y). */
#ifndef KL_ADD_H
#define KL_ADD_H

#include "variants.h"

#define KL_DECLARE_ADD(fn) kl_status fn(ptrdiff_t n, const float *x, const float *y, float *z)

KL_DECLARE_ADD(kl_add_naive);

#endif
