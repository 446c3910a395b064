/* The layernorm_backward op's descriptor (kernels/ops/ops.h): dx, dgamma, dbeta from x, gamma,
 * the saved mean and rstd, and dy. mean and rstd are drawn at random: the oracle uses the same
 * ones, so they need not be x's own. */
#include "ops.h"
#include "reference.h"

enum { X, GAMMA, MEAN, RSTD, DY, DGAMMA, DBETA, DX };

/* Per element: xhat (2), g (1), two sums (3), dx (4), dgamma and dbeta (3): ~13 flops. */
static double flops(const ptrdiff_t *d) { return 13.0 * d[0] * d[1]; }

/* Read x, dy; write dx (rows cols each); gamma, dgamma, dbeta (cols); mean, rstd (rows). */
static double bytes(const ptrdiff_t *d) {
    return 4.0 * (3.0 * d[0] * d[1] + 3.0 * d[1] + 2.0 * d[0]);
}

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_layernorm_backward_run(v, a->d[0], a->d[1], a->buf[X], a->buf[GAMMA], a->buf[MEAN],
                                     a->buf[RSTD], a->buf[DY], a->buf[DX], a->buf[DGAMMA],
                                     a->buf[DBETA]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    return kl_check_layernorm_backward(a->d[0], a->d[1], a->buf[X], a->buf[GAMMA], a->buf[MEAN],
                                       a->buf[RSTD], a->buf[DY], a->buf[DX], a->buf[DGAMMA],
                                       a->buf[DBETA], where);
}

/* The MLP's two LayerNorms at batch 128. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[2][2] = {{128, 256}, {128, 128}};
    size_t count = quick ? 1 : 2;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = all[i][0], shapes[i][1] = all[i][1], shapes[i][2] = 0;
    return count;
}

const kl_op_desc kl_layernorm_backward_op = {
    .op = KL_OP_LAYERNORM_BACKWARD,
    .name = "layernorm_backward",
    .summary = "dx = rstd (g - mean(g) - xhat mean(g xhat)), g = gamma dy; dgamma, dbeta = column sums",
    .ndims = 2,
    .dim_names = {"rows", "cols"},
    .nbufs = 8,
    .bufs = {{"x", KL_BUF_IN, 0, 1, -2, 3, 0},
             {"gamma", KL_BUF_IN, KL_DIM_ONE, 1, 0.5f, 1.5f, 0},
             {"mean", KL_BUF_IN, KL_DIM_ONE, 0, 0, 1, 0},
             {"rstd", KL_BUF_IN, KL_DIM_ONE, 0, 0.5f, 2, 0},
             {"dy", KL_BUF_IN, 0, 1, -1, 1, 0},
             {"dgamma", KL_BUF_OUT, KL_DIM_ONE, 1, 0, 0, KL_BUF_OPTIONAL},
             {"dbeta", KL_BUF_OUT, KL_DIM_ONE, 1, 0, 0, KL_BUF_OPTIONAL},
             {"dx", KL_BUF_OUT, 0, 1, 0, 0, 0}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "dx: 16 (cols + 4) u rstd (|g| + mean|g| + |xhat| (mean|g xhat| + mean|g|)); "
             "dgamma, dbeta: 4 (rows + 4) u sum |terms|",
    .bench_shapes = bench_shapes,
    .blis_name = "none",
    .blis_what = "BLIS has no layernorm backward: no baseline",
};
