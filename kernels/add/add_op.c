/* The add op's descriptor (kernels/ops/ops.h): z[n] = x[n] + y[n]. */
#include "ops.h"

#include <math.h>
#include <string.h>

#ifdef KL_OPS_BLIS
#include <blis.h>
#endif

enum { X, Y, Z };

static double flops(const ptrdiff_t *d) { return (double)d[0]; }

static double bytes(const ptrdiff_t *d) { return 12.0 * d[0]; } /* read x and y, write z */

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_add_run(v, a->d[0], a->buf[X], a->buf[Y], a->buf[Z]);
}

/* The float64 oracle is the float sum itself: one IEEE addition is exactly rounded, so z must
 * equal it bit for bit (NaN where the sum is NaN). */
static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample;
    for (ptrdiff_t i = 0; i < a->d[0]; i++) {
        float want = a->buf[X][i] + a->buf[Y][i], got = a->buf[Z][i];
        if (!(got == want || (isnan(got) && isnan(want)))) return *where = i, INFINITY;
    }
    return 0.0;
}

/* n so that x, y and z fill half of L2, half of L3, and 4x L3 (at least 64 MiB: DRAM). */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    ptrdiff_t l2 = (ptrdiff_t)kl_cpu_cache_bytes(2) / 2 / 12;
    ptrdiff_t l3 = (ptrdiff_t)kl_cpu_cache_bytes(3) / 2 / 12;
    ptrdiff_t dram = 4 * (ptrdiff_t)kl_cpu_cache_bytes(3);
    if (dram < (64 << 20)) dram = 64 << 20;
    ptrdiff_t all[3] = {l2, l3, dram / 12}, small[1] = {l2};
    const ptrdiff_t *n = quick ? small : all;
    size_t count = quick ? 1 : 3;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = n[i], shapes[i][1] = shapes[i][2] = 0;
    return count;
}

static double working_set(const ptrdiff_t *d) { return 12.0 * d[0]; }

#ifdef KL_OPS_BLIS
/* BLIS's level 1 in two passes: z = x (copyv), then z += y (addv). */
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    bli_scopyv(BLIS_NO_CONJUGATE, hi - lo, a->buf[X] + lo, 1, a->buf[Z] + lo, 1);
    bli_saddv(BLIS_NO_CONJUGATE, hi - lo, a->buf[Y] + lo, 1, a->buf[Z] + lo, 1);
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_add_op = {
    .op = KL_OP_ADD,
    .name = "add",
    .summary = "z[n] = x[n] + y[n]",
    .ndims = 1,
    .dim_names = {"n"},
    .nbufs = 3,
    .bufs = {{"x", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"y", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"z", KL_BUF_OUT, KL_DIM_ONE, 0, 0, 0, 0}},
    .nparams = 0,
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "exact: z == x + y in float (one exactly rounded addition)",
    .bench_shapes = bench_shapes,
    .bench_skips = NULL,
    .working_set = working_set,
    .blis_name = "blis_addv",
    .blis_what = "bli_scopyv x -> z, then bli_saddv y into z",
    .blis = baseline,
    .blis_threads_itself = 0,
};
