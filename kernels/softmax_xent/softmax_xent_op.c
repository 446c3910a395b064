/* The softmax_xent op's descriptor (kernels/ops/ops.h): the mean cross-entropy of softmax(z)
 * against integer labels, and dlogits. The table's buffers are floats, so "labels" holds
 * u in [0, 1) per row and the label is floor(u cols): call and check convert the same way. */
#include "ops.h"
#include "reference.h"

#include <math.h>
#include <stdlib.h>

enum { Z, LABELS, LOSS, DZ };

static double flops(const ptrdiff_t *d) { return 8.0 * d[0] * d[1]; } /* max, exp (as ~4), sum, scale */
static double bytes(const ptrdiff_t *d) { return 4.0 * (2.0 * d[0] * d[1] + d[0] + 1); }

/* The labels as ints (caller frees); NULL when out of memory. */
static int *labels_of(const kl_op_args *a) {
    ptrdiff_t rows = a->d[0], cols = a->d[1];
    int *l = malloc(sizeof(int) * (size_t)(rows > 0 ? rows : 1));
    for (ptrdiff_t r = 0; l && r < rows; r++) {
        ptrdiff_t c = (ptrdiff_t)(a->buf[LABELS][r] * (float)cols);
        l[r] = (int)(c < cols ? c : cols - 1);
    }
    return l;
}

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    int *labels = labels_of(a);
    if (!labels) return KL_ENOMEM;
    kl_status s = kl_softmax_xent_run(v, a->d[0], a->d[1], a->buf[Z], labels, a->buf[LOSS],
                                      a->buf[DZ]);
    free(labels);
    return s;
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    int *labels = labels_of(a);
    double worst = labels ? kl_check_softmax_xent(a->d[0], a->d[1], a->buf[Z], labels,
                                                  a->buf[LOSS][0], a->buf[DZ], where)
                          : INFINITY;
    free(labels);
    return worst;
}

/* The MLP's logits at batch 128 (10 classes), and a wider one. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[2][2] = {{128, 10}, {128, 1000}};
    size_t count = quick ? 1 : 2;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = all[i][0], shapes[i][1] = all[i][1], shapes[i][2] = 0;
    return count;
}

const kl_op_desc kl_softmax_xent_op = {
    .op = KL_OP_SOFTMAX_XENT,
    .name = "softmax_xent",
    .summary = "loss = mean_r (logsumexp(z_r) - z_r[label_r]); dz = (softmax(z) - onehot) / rows",
    .ndims = 2,
    .dim_names = {"rows", "cols"},
    .nbufs = 4,
    .bufs = {{"logits", KL_BUF_IN, 0, 1, -3, 3, 0},
             {"labels", KL_BUF_IN, KL_DIM_ONE, 0, 0, 1, 0}, /* floor(u cols) */
             {"loss", KL_BUF_OUT, KL_DIM_ONE, KL_DIM_ONE, 0, 0, 0},
             {"dlogits", KL_BUF_OUT, 0, 1, 0, 0, 0}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "dz: 8 (cols + 4) u / rows; loss: 8 (cols + 4) u (1 + max|z| + |loss|)",
    .bench_shapes = bench_shapes,
    .blis_name = "none",
    .blis_what = "BLIS has no softmax xent: no baseline",
    .min_dims = {0, 1}, /* a row needs a class to be labelled with */
};
