/* The bias_backward op's descriptor (kernels/ops/ops.h): db[c] = sum over rows of dy[r][c]. */
#include "ops.h"
#include "reference.h"

enum { DY, DB };

static double flops(const ptrdiff_t *d) { return (double)d[0] * d[1]; }
static double bytes(const ptrdiff_t *d) { return 4.0 * ((double)d[0] * d[1] + d[1]); }

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_bias_backward_run(v, a->d[0], a->d[1], a->buf[DY], a->ld[DY], a->buf[DB]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    return kl_check_bias_backward(a->d[0], a->d[1], a->buf[DY], a->ld[DY], a->buf[DB], where);
}

/* The MLP's three biases at batch 128. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[3][2] = {{128, 256}, {128, 128}, {128, 10}};
    size_t count = quick ? 1 : 3;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = all[i][0], shapes[i][1] = all[i][1], shapes[i][2] = 0;
    return count;
}

const kl_op_desc kl_bias_backward_op = {
    .op = KL_OP_BIAS_BACKWARD,
    .name = "bias_backward",
    .summary = "db[c] = sum_r dy[r][c]",
    .ndims = 2,
    .dim_names = {"rows", "cols"},
    .nbufs = 2,
    .bufs = {{"dy", KL_BUF_IN, 0, 1, -1, 1, KL_BUF_STRIDED},
             {"db", KL_BUF_OUT, KL_DIM_ONE, 1, 0, 0, 0}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "|db - ref| <= 2 (rows + 2) u sum_r |dy|",
    .bench_shapes = bench_shapes,
    .blis_name = "none",
    .blis_what = "BLIS has no bias backward: no baseline",
};
