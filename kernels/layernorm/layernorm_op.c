/* The layernorm op's descriptor (kernels/ops/ops.h): y = (x - mean) rstd gamma + beta per row,
 * eps 1e-5, mean and rstd written. */
#include "ops.h"
#include "reference.h"

#include <math.h>

#ifdef KL_OPS_BLIS
#include <blis.h>
#endif

enum { X, GAMMA, BETA, Y, MEAN, RSTD, ONES };

/* Per element: subtract, square-accumulate, sum, scale, FMA with gamma and beta: 8 flops. */
static double flops(const ptrdiff_t *d) { return 8.0 * d[0] * d[1]; }

/* Read x, write y (rows cols each), read gamma and beta once (cols each), write mean and
 * rstd (rows each). */
static double bytes(const ptrdiff_t *d) {
    return 4.0 * (2.0 * d[0] * d[1] + 2.0 * d[1] + 2.0 * d[0]);
}

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_layernorm_run(v, a->d[0], a->d[1], a->buf[X], a->buf[GAMMA], a->buf[BETA], a->p[0],
                            a->buf[Y], a->buf[MEAN], a->buf[RSTD]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample; /* linear in the size: always all of it */
    return kl_check_layernorm(a->d[0], a->d[1], a->buf[X], a->buf[GAMMA], a->buf[BETA], a->p[0],
                              a->buf[Y], a->buf[MEAN], a->buf[RSTD], where);
}

/* (rows, cols): x + y fill half of L2, half of L3, and 4x L3 (at least 64 MiB: DRAM), at
 * transformer widths 768 and 4096. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    size_t l2 = kl_cpu_cache_bytes(2) / 2, l3 = kl_cpu_cache_bytes(3) / 2;
    size_t dram = 4 * kl_cpu_cache_bytes(3) > (64u << 20) ? 4 * kl_cpu_cache_bytes(3) : 64u << 20;
    size_t count = 0;
    ptrdiff_t want[6][2];
    if (quick) {
        want[count][0] = 4, want[count++][1] = 768;
        want[count][0] = (ptrdiff_t)(l2 / 8 / 768), want[count++][1] = 768;
    } else {
        size_t ws[3] = {l2, l3, dram};
        for (int w = 0; w < 3; w++)
            for (int c = 0; c < 2; c++) {
                ptrdiff_t cols = c ? 4096 : 768;
                want[count][0] = (ptrdiff_t)(ws[w] / 8 / (size_t)cols), want[count++][1] = cols;
            }
    }
    for (size_t i = 0; i < count && i < cap; i++) {
        shapes[i][0] = want[i][0] > 1 ? want[i][0] : 1;
        shapes[i][1] = want[i][1], shapes[i][2] = 0;
    }
    return count;
}

static double working_set(const ptrdiff_t *d) { return 8.0 * d[0] * d[1]; }

#ifdef KL_OPS_BLIS
/* BLIS has no LayerNorm and no elementwise product, so per row it is
 *   sum = bli_sdotv(x, ones)             mean = sum / cols
 *   y = bli_scopyv(x); bli_saxpyv(-mean, ones, y)        (y = x - mean)
 *   ss = bli_sdotv(y, y)                 rstd = 1 / sqrt(ss / cols + eps)
 *   bli_sscalv(rstd, y)                  (y = (x - mean) rstd)
 *   y[c] = y[c] * gamma[c] + beta[c]     (plain C loop)
 * the two-pass algorithm with BLIS doing every whole-row pass but the last. */
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    const dim_t n = a->d[1];
    const float *g = a->buf[GAMMA], *b = a->buf[BETA];
    float *ones = a->buf[ONES];
    for (ptrdiff_t r = lo; r < hi; r++) {
        float *x = a->buf[X] + r * n, *y = a->buf[Y] + r * n;
        float sum = 0, ss = 0;
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, n, x, 1, ones, 1, &sum);
        float mu = n ? sum / (float)n : 0, neg = -mu;
        bli_scopyv(BLIS_NO_CONJUGATE, n, x, 1, y, 1);
        bli_saxpyv(BLIS_NO_CONJUGATE, n, &neg, ones, 1, y, 1);
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, n, y, 1, y, 1, &ss);
        float rs = 1.0f / sqrtf((n ? ss / (float)n : 0) + a->p[0]);
        bli_sscalv(BLIS_NO_CONJUGATE, n, &rs, y, 1);
        for (dim_t c = 0; c < n; c++) y[c] = y[c] * g[c] + b[c];
        if (a->buf[MEAN]) a->buf[MEAN][r] = mu;
        if (a->buf[RSTD]) a->buf[RSTD][r] = rs;
    }
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_layernorm_op = {
    .op = KL_OP_LAYERNORM,
    .name = "layernorm",
    .summary = "y[r][c] = (x[r][c] - mean_r) rstd_r gamma[c] + beta[c]",
    .ndims = 2,
    .dim_names = {"rows", "cols"},
    .nbufs = 7,
    .bufs = {{"x", KL_BUF_IN, 0, 1, -2, 3, 0}, /* a nonzero mean, as activations have */
             {"gamma", KL_BUF_IN, KL_DIM_ONE, 1, 0.5f, 1.5f, 0},
             {"beta", KL_BUF_IN, KL_DIM_ONE, 1, -0.5f, 0.5f, 0},
             {"y", KL_BUF_OUT, 0, 1, 0, 0, 0},
             {"mean", KL_BUF_OUT, KL_DIM_ONE, 0, 0, 0, KL_BUF_OPTIONAL},
             {"rstd", KL_BUF_OUT, KL_DIM_ONE, 0, 0, 0, KL_BUF_OPTIONAL},
             {"ones", KL_BUF_IN, KL_DIM_ONE, 1, 1, 1, KL_BUF_BASELINE}},
    .nparams = 1,
    .params = {{"eps", 1e-5f}},
    .flops = flops,
    .bytes = bytes,
    .rate = "GBps",
    .call = call,
    .check = check,
    .bound = "|y - ref| <= 64 u (|gamma| (|xhat| + |mean| rstd + 1) + |beta|), u = 2^-24",
    .bench_shapes = bench_shapes,
    .bench_skips = NULL,
    .working_set = working_set,
    .blis_name = "blis_l1",
    .blis_what = "BLIS level 1 per row: dotv, copyv, axpyv, dotv, scalv, then a C loop",
    .blis = baseline,
    .blis_threads_itself = 0,
    .copy_roof = {"x", "y"},
};
