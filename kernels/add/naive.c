/* Rung 1: one loop. Each element is one float addition, so every variant must give the same
 * bits; z may be x or y (each element is read before it is written). */
#include "add.h"

kl_status kl_add_naive(ptrdiff_t n, const float *x, const float *y, float *z) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t i = 0; i < n; i++) z[i] = x[i] + y[i];
    return KL_OK;
    /* END SOLUTION */
}
