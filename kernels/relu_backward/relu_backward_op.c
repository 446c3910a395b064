/* The relu_backward op's descriptor (kernels/ops/ops.h): dx = dy where y > 0, else 0. */
#include "ops.h"
#include "reference.h"

enum { Y, DY, DX };

static double flops(const ptrdiff_t *d) { return (double)d[0]; } /* one select per element */
static double bytes(const ptrdiff_t *d) { return 12.0 * d[0]; } /* read y, dy; write dx */

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_relu_backward_run(v, a->d[0], a->buf[Y], a->buf[DY], a->buf[DX]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    return kl_check_relu_backward(a->d[0], a->buf[Y], a->buf[DY], a->buf[DX], where);
}

/* The MLP's two hidden layers at batch 128. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[2] = {128 * 256, 128 * 128};
    size_t count = quick ? 1 : 2;
    for (size_t i = 0; i < count && i < cap; i++) shapes[i][0] = all[i], shapes[i][1] = shapes[i][2] = 0;
    return count;
}

const kl_op_desc kl_relu_backward_op = {
    .op = KL_OP_RELU_BACKWARD,
    .name = "relu_backward",
    .summary = "dx[n] = y[n] > 0 ? dy[n] : 0",
    .ndims = 1,
    .dim_names = {"n"},
    .nbufs = 3,
    .bufs = {{"y", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"dy", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"dx", KL_BUF_OUT, KL_DIM_ONE, 0, 0, 0, 0}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "exact: dx == (y > 0 ? dy : 0), NaN where y is NaN",
    .bench_shapes = bench_shapes,
    .blis_name = "none",
    .blis_what = "BLIS has no relu backward: no baseline",
};
