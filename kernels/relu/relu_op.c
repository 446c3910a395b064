/* The relu op's descriptor (kernels/ops/ops.h): y[n] = max(x[n], 0), out of place. */
#include "ops.h"
#include "reference.h"

#include <math.h>
#include <string.h>

#ifdef KL_OPS_BLIS
#include <blis.h>
#endif

enum { X, Y };

static double flops(const ptrdiff_t *d) { return (double)d[0]; } /* one max per element */

/* The compulsory traffic, read x + write y (a write-allocate that also reads y is the
 * kernel's cost, not the work). */
static double bytes(const ptrdiff_t *d) { return 8.0 * d[0]; }

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_relu_run(v, a->d[0], a->buf[X], a->buf[Y]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample; /* exact and linear: always all of it */
    return kl_check_relu(a->d[0], a->buf[X], a->buf[Y], where);
}

/* n so that x + y fill half of L2, half of L3, and 4x L3 (at least 64 MiB: DRAM). */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    ptrdiff_t l2 = (ptrdiff_t)kl_cpu_cache_bytes(2) / 2 / 8;
    ptrdiff_t l3 = (ptrdiff_t)kl_cpu_cache_bytes(3) / 2 / 8;
    ptrdiff_t dram = 4 * (ptrdiff_t)kl_cpu_cache_bytes(3);
    if (dram < (64 << 20)) dram = 64 << 20;
    ptrdiff_t all[3] = {l2, l3, dram / 8}, small[2] = {4096, l2};
    const ptrdiff_t *n = quick ? small : all;
    size_t count = quick ? 2 : 3;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = n[i], shapes[i][1] = shapes[i][2] = 0;
    return count;
}

static double working_set(const ptrdiff_t *d) { return 8.0 * d[0]; }

/* The BLIS baseline copies: y must equal x bit for bit. */
static double check_copy(const kl_op_args *a, ptrdiff_t *where) {
    for (ptrdiff_t i = 0; i < a->d[0]; i++)
        if (memcmp(&a->buf[X][i], &a->buf[Y][i], sizeof(float)) != 0) return *where = i, INFINITY;
    return 0.0;
}

#ifdef KL_OPS_BLIS
/* BLIS has no ReLU: bli_scopyv moves the same 8 n bytes with BLIS's own level 1. */
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    bli_scopyv(BLIS_NO_CONJUGATE, hi - lo, a->buf[X] + lo, 1, a->buf[Y] + lo, 1);
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_relu_op = {
    .op = KL_OP_RELU,
    .name = "relu",
    .summary = "y[n] = max(x[n], 0)",
    .ndims = 1,
    .dim_names = {"n"},
    .nbufs = 2,
    .bufs = {{"x", KL_BUF_IN, KL_DIM_ONE, 0, -1, 1, 0},
             {"y", KL_BUF_OUT, KL_DIM_ONE, 0, 0, 0, 0}},
    .nparams = 0,
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "exact: y == max(x, 0), NaN propagated, +0 and -0 equal",
    .bench_shapes = bench_shapes,
    .bench_skips = NULL,
    .working_set = working_set,
    .blis_name = "blis_copyv",
    .blis_what = "bli_scopyv x -> y (the same traffic: BLIS has no ReLU)",
    .blis = baseline,
    .blis_threads_itself = 0,
    .blis_check = check_copy,
    .copy_roof = {"x", "y"},
};
