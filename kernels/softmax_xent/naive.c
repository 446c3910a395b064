/* Rung 1: softmax cross-entropy over rows of logits z[rows][cols], row by row.
 *   loss_r = logsumexp(z_r) - z_r[label_r],  logsumexp = max + log(sum exp(z - max))
 *   dlogits_r = (softmax(z_r) - onehot(label_r)) / rows        (the mean's gradient)
 * Subtracting the row's max keeps every exp in (0, 1]: no overflow for any finite row. A NaN
 * in the row is skipped by the max but reaches every exp; +Inf makes z - max NaN: the row's
 * loss and gradient are NaN either way. The mean loss is summed in double. */
#include "softmax_xent.h"

#include <math.h>

/* One row: returns its loss; writes its gradient (times scale) to d if not NULL. */
float kl_softmax_xent_row(ptrdiff_t cols, const float *z, int label, float scale, float *d) {
    float mx = z[0];
    for (ptrdiff_t c = 1; c < cols; c++)
        if (z[c] > mx) mx = z[c];
    float sum = 0.0f;
    for (ptrdiff_t c = 0; c < cols; c++) sum += expf(z[c] - mx);
    if (d) {
        float inv = scale / sum;
        for (ptrdiff_t c = 0; c < cols; c++) d[c] = expf(z[c] - mx) * inv;
        d[label] -= scale;
    }
    return mx + logf(sum) - z[label];
}

kl_status kl_softmax_xent_naive(ptrdiff_t rows, ptrdiff_t cols, const float *logits,
                                const int *labels, float *loss, float *dlogits) {
    /* BEGIN SOLUTION */
    double total = 0.0;
    float scale = 1.0f / (float)rows;
    for (ptrdiff_t r = 0; r < rows; r++)
        total += kl_softmax_xent_row(cols, logits + r * cols, labels[r], scale,
                                     dlogits ? dlogits + r * cols : NULL);
    *loss = (float)(total / (double)rows);
    return KL_OK;
    /* END SOLUTION */
}
