/* The sgd_momentum op's descriptor (kernels/ops/ops.h): v = momentum v + g + wd w; w -= lr v. */
#include "ops.h"
#include "reference.h"

#include <math.h>

enum { W, G, V };

static double flops(const ptrdiff_t *d) { return 5.0 * d[0]; }
static double bytes(const ptrdiff_t *d) { return 20.0 * d[0]; } /* read w g v, write w v */

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_sgd_momentum_run(v, a->d[0], a->p[0], a->p[1], a->p[2], a->buf[W], a->buf[G],
                               a->buf[V]);
}

/* Needs the values before the call (the INOUT copies): without them nothing can be checked. */
static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    if (!a->initial[W] || !a->initial[V]) return INFINITY;
    return kl_check_sgd_momentum(a->d[0], a->p[0], a->p[1], a->p[2], a->initial[W], a->buf[G],
                                 a->initial[V], a->buf[W], a->buf[V], where);
}

/* The MLP's 235,914 parameters, and 4 Mi (past L2 on a team). */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[2] = {235914, 1 << 22};
    size_t count = quick ? 1 : 2;
    for (size_t i = 0; i < count && i < cap; i++) shapes[i][0] = all[i], shapes[i][1] = shapes[i][2] = 0;
    return count;
}

const kl_op_desc kl_sgd_momentum_op = {
    .op = KL_OP_SGD_MOMENTUM,
    .name = "sgd_momentum",
    .summary = "v = momentum v + g + weight_decay w; w = w - lr v",
    .ndims = 1,
    .dim_names = {"n"},
    .nbufs = 3,
    .bufs = {{"w", KL_BUF_INOUT, KL_DIM_ONE, 0, -1, 1, 0},
             {"g", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"v", KL_BUF_INOUT, KL_DIM_ONE, 0, -1, 1, 0}},
    .nparams = 3,
    .params = {{"lr", 0.05f}, {"momentum", 0.9f}, {"weight_decay", 5e-4f}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "v: 4 u (|g| + |wd w| + |momentum v|); w: 4 u (|w| + lr (that))",
    .bench_shapes = bench_shapes,
    .blis_name = "none",
    .blis_what = "BLIS has no sgd momentum: no baseline",
};
