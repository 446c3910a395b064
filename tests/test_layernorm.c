/* LayerNorm suite: every registered variant against the float64 oracle, over widths from 0 to
 * 4097 (768..4096 included), tile edges, unaligned bases, mean/rstd NULL or not, in place,
 * rows with mean 1e4 (cancellation), rows whose first floats are far from their mean (the
 * SIMD rungs' shift), NaN/Inf rows, the edges of the SIMD rungs' blocks of rows, every
 * thread count, and bad input. The block geometry comes from the internal LayerNorm header. */
#include "layernorm/layernorm.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum fill { PLAIN, CANCEL, NAN_ROWS, FAR_SHIFT };

typedef struct ln_case {
    ptrdiff_t rows, cols;
    float eps;
    int stats;       /* bit 0: pass mean, bit 1: pass rstd */
    int in_place;    /* y == x */
    ptrdiff_t off[4]; /* x, y, gamma/beta, mean/rstd: floats past a 64-byte boundary */
} ln_case;

/* NAN_ROWS poisons rows 1 (NaN), 3 (+Inf) and 4 (-Inf); the others must stay correct. */
static int poisoned(ptrdiff_t r) { return r == 1 || r == 3 || r == 4; }

static void fill_x(tu_mat *X, enum fill fill) {
    for (ptrdiff_t r = 0; r < X->rows; r++) {
        /* CANCEL: mean +-1e4 with unit-variance noise; else a random shift per row */
        float shift = fill == CANCEL || fill == FAR_SHIFT ? (r % 2 ? -1e4f : 1e4f) : tu_uniform(-3.0f, 3.0f);
        if (fill == FAR_SHIFT && r % 3 == 2) shift = 0.0f;
        for (ptrdiff_t c = 0; c < X->cols; c++)
            X->p[r * X->ld + c] = shift + tu_uniform(-1.7320508f, 1.7320508f);
        /* FAR_SHIFT: rows whose first 8 floats sit far from the row's mean, so the SIMD rungs'
         * shift (the mean of those 8) is more than a std away and they must take pass b:
         * even rows start with 8 outliers at +1000 (as the outlier features of LLM
         * activations), odd rows are an ascending ramp. Without pass b the first kind loses
         * a factor ~cols/8 of M2's precision to cancellation and fails the oracle. */
        for (ptrdiff_t c = 0; fill == FAR_SHIFT && c < X->cols; c++) {
            if (r % 2 == 0 && c < 8) X->p[r * X->ld + c] += 1000.0f;
            if (r % 2 == 1) X->p[r * X->ld + c] = shift + 3.4641016f * ((float)c + 0.5f) / (float)X->cols - 1.7320508f;
        }
        if (fill == NAN_ROWS && poisoned(r) && X->cols > 0)
            X->p[r * X->ld + (ptrdiff_t)(tu_rand_u64() % (uint64_t)X->cols)] =
                r == 1 ? NAN : r == 3 ? INFINITY : -INFINITY;
    }
}

static void run_case(tu_group *g, const kl_variant *v, ln_case c, enum fill fill, int threads) {
    ptrdiff_t ld = c.cols > 0 ? c.cols : 1;
    tu_mat X, Y, G, B, M, R;
    tu_mat_alloc(&X, c.rows, c.cols, ld, c.off[0]);
    tu_mat_alloc(&Y, c.rows, c.cols, ld, c.off[1]);
    tu_mat_alloc(&G, 1, c.cols, ld, c.off[2]);
    tu_mat_alloc(&B, 1, c.cols, ld, c.off[2]);
    tu_mat_alloc(&M, 1, c.rows, c.rows > 0 ? c.rows : 1, c.off[3]);
    tu_mat_alloc(&R, 1, c.rows, c.rows > 0 ? c.rows : 1, c.off[3]);
    fill_x(&X, fill);
    /* out of place, y starts finite: a poisoned row that the kernel never writes would keep
     * the NaN it was allocated with, and pass */
    if (fill == NAN_ROWS && !c.in_place) tu_fill_uniform(&Y, 1.0f, 1.0f);
    tu_fill_uniform(&G, -1.5f, 1.5f);
    tu_fill_uniform(&B, -0.5f, 0.5f);
    float *sx = tu_mat_snapshot(&X), *sg = tu_mat_snapshot(&G), *sb = tu_mat_snapshot(&B);
    const float *x0 = sx + (X.p - X.block);
    float *y = c.in_place ? X.p : Y.p;
    float *mean = c.stats & 1 ? M.p : NULL, *rstd = c.stats & 2 ? R.p : NULL;

    kl_status s = kl_layernorm_variant(v->name, c.rows, c.cols, X.p, G.p, B.p, c.eps, y, mean, rstd);

    int in_ok = tu_mat_same(&G, sg) && tu_mat_same(&B, sb) && (c.in_place || tu_mat_same(&X, sx));
    ptrdiff_t canary = tu_mat_canary_broken(c.in_place ? &X : &Y), where = -1;
    if (canary < 0) canary = tu_mat_canary_broken(&M);
    if (canary < 0) canary = tu_mat_canary_broken(&R);
    double worst = INFINITY;
    if (s == KL_OK && fill != NAN_ROWS) {
        worst = kl_check_layernorm(c.rows, c.cols, x0, G.p, B.p, c.eps, y, mean, rstd, &where);
    } else if (s == KL_OK) { /* poisoned rows: y all NaN (the oracle says so); others fully */
        worst = kl_check_layernorm(c.rows, c.cols, x0, G.p, B.p, c.eps, y, NULL, NULL, &where);
        for (ptrdiff_t r = 0; r < c.rows; r++) {
            ptrdiff_t w = -1;
            double e = poisoned(r) ? 0.0
                       : kl_check_layernorm(1, c.cols, x0 + r * ld, G.p, B.p, c.eps, y + r * ld,
                                            mean ? mean + r : NULL, rstd ? rstd + r : NULL, &w);
            if (e > worst) worst = e, where = r * ld + w;
        }
    }
    ptrdiff_t wr = where >= 0 ? where / ld : -1, wc = where >= 0 ? where % ld : -1;
    tu_check(g, s == KL_OK && in_ok && canary < 0 && worst <= 1.0,
             "rows=%td cols=%td eps=%g mean=%s rstd=%s %s off=%td,%td,%td,%td threads=%d%s: "
             "status=%s inputs_unchanged=%d canary_broken_at=%td worst_ratio=%.3g at [%td][%td] "
             "(y=%g)",
             c.rows, c.cols, c.eps, mean ? "yes" : "NULL", rstd ? "yes" : "NULL",
             c.in_place ? "in place" : "out of place", c.off[0], c.off[1], c.off[2], c.off[3],
             threads, fill == CANCEL ? " (mean 1e4)" : fill == NAN_ROWS ? " (NaN/Inf rows)"
                      : fill == FAR_SHIFT ? " (far shift)" : "",
             kl_status_str(s), in_ok, canary, worst, wr, wc, where >= 0 ? y[where] : 0.0);
    free(sx), free(sg), free(sb);
    tu_mat_free(&X), tu_mat_free(&Y), tu_mat_free(&G), tu_mat_free(&B);
    tu_mat_free(&M), tu_mat_free(&R);
}

/* Cycles mean/rstd presence, in place, and eps over successive cases. */
static ln_case shape(ptrdiff_t rows, ptrdiff_t cols, size_t idx) {
    static const float eps[] = {1e-5f, 1e-3f, 1e-30f, 1.0f}; /* 1e-30: as good as none */
    float e = eps[(idx / 8) % 4];
    return (ln_case){rows, cols, e, (int)(idx % 4), (int)((idx / 4) % 2), {0, 0, 0, 0}};
}

static void group_shapes(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "shapes", t);
    static const ptrdiff_t rows[] = {0, 1, 2, 3, 7, 13};
    static const ptrdiff_t cols[] = {0, 1, 2, 3, 5, 7, 13, 31, 61, 127, 257};
    size_t idx = 0;
    for (size_t r = 0; r < 6; r++)
        for (size_t c = 0; c < 11; c++) run_case(&g, v, shape(rows[r], cols[c], idx++), PLAIN, t);
    ptrdiff_t w[64];
    size_t nw = tu_edge_sizes(w, 64, 4097);
    static const ptrdiff_t model_widths[] = {768, 1024, 1536, 2048, 3072, 4096};
    for (size_t i = 0; i < 6; i++) nw = tu_add(w, nw, 64, model_widths[i], 4097);
    for (size_t i = 0; i < nw; i++)
        for (ptrdiff_t r = 1; r <= 3; r += 2) run_case(&g, v, shape(r, w[i], idx++), PLAIN, t);
    static const ptrdiff_t odd[][2] = {{1000, 3}, {3, 1000}, {1000, 1}, {257, 61}, {5, 3072}};
    for (size_t i = 0; i < 5; i++) run_case(&g, v, shape(odd[i][0], odd[i][1], idx++), PLAIN, t);
    tu_end(&g);
}

/* Each tile edge +-1 as the width (3 rows) and as the row count (7 columns). */
static void group_blocks(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "blocks", t);
    ptrdiff_t b[128];
    size_t nb = tu_block_sizes(v, b, 128), idx = 0;
    for (size_t i = 0; i < nb; i++) {
        run_case(&g, v, shape(3, b[i], idx++), PLAIN, t);
        run_case(&g, v, shape(b[i], 7, idx++), PLAIN, t);
    }
    tu_end(&g);
}

static void group_offsets(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "offsets", t);
    static const ptrdiff_t shapes[][2] = {{3, 67}, {5, 768}, {2, 1025}};
    static const ptrdiff_t offs[][4] = {{0, 0, 0, 0}, {1, 2, 3, 1}, {3, 1, 2, 2}, {2, 3, 1, 3}};
    size_t idx = 0;
    for (size_t s = 0; s < 3; s++)
        for (size_t o = 0; o < 4; o++)
            for (int k = 0; k < 8; k++) {
                ln_case c = shape(shapes[s][0], shapes[s][1], idx++);
                c.stats = k % 4, c.in_place = k / 4;
                for (int d = 0; d < 4; d++) c.off[d] = offs[o][d];
                run_case(&g, v, c, PLAIN, t);
            }
    tu_end(&g);
}

/* Rows with mean +-1e4 and unit noise: E[x^2] - E[x]^2 in float cannot pass this. */
static void group_cancellation(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "cancellation", t);
    static const ptrdiff_t cols[] = {2, 61, 768, 1000, 1024, 2048, 3072, 4096, 4097};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        for (int in_place = 0; in_place < 2; in_place++) {
            ln_case c = {4, cols[i], 1e-5f, 3, in_place, {0, 0, 0, 0}};
            run_case(&g, v, c, CANCEL, t);
        }
    tu_end(&g);
}

/* Rows whose start is unlike the rest (outliers, ramps), means 0 and +-1e4; odd row counts
 * leave a last row outside the SIMD rungs' pairs. */
static void group_far_shift(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "far_shift", t);
    static const ptrdiff_t cols[] = {2, 7, 8, 9, 61, 768, 1000, 2048, 4096, 4097};
    static const ptrdiff_t rows[] = {1, 4, 7};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        for (size_t r = 0; r < 3; r++)
            for (int in_place = 0; in_place < 2; in_place++) {
                ln_case c = {rows[r], cols[i], 1e-5f, 3, in_place, {0, 0, 0, 0}};
                run_case(&g, v, c, FAR_SHIFT, t);
            }
    tu_end(&g);
}

static void group_nan(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "nan_inf", t);
    static const ptrdiff_t cols[] = {1, 7, 64, 769, 4096};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        for (int k = 0; k < 4; k++) {
            ln_case c = {6, cols[i], 1e-5f, k % 2 ? 3 : 0, k / 2, {0, 0, 0, 0}};
            run_case(&g, v, c, NAN_ROWS, t);
        }
    tu_end(&g);
}

/* The SIMD rungs' BLOCKS walk (kernels/layernorm/common.c) at its edges: the narrowest row too
 * wide for half of L1 with gamma and beta, twice the column chunk +-1, and 4097 columns; two
 * full blocks and a partial one, plain or with NaN/Inf rows, in place or not. These shapes fit
 * L2, so by default they go in pairs; the layernorm_single_rows test (KL_LAYERNORM_SINGLE_MIN=0)
 * sends them through the blocks. */
static void group_row_blocks(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "row_blocks", t);
    const ptrdiff_t chunk = kl_ln_block_cols();
    const ptrdiff_t cols[] = {(ptrdiff_t)(kl_cpu_cache_bytes(1) / 2 / 12) + 1, 2 * chunk - 1,
                              2 * chunk + 1, 4097};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        for (int k = 0; k < 4; k++) {
            ln_case c = {2 * kl_ln_block_rows(cols[i]) + 1, cols[i], 1e-5f, k % 2 ? 3 : 1, k / 2,
                         {0, 0, 0, 0}};
            run_case(&g, v, c, k % 2 ? NAN_ROWS : PLAIN, t);
        }
    tu_end(&g);
}

/* rows x cols past any threshold derived from L2 (non-temporal stores, thread splits). */
static void group_large(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "large", t);
    static const ptrdiff_t cols[] = {769, 4097};
    static const ptrdiff_t offs[][4] = {{0, 0, 0, 0}, {1, 3, 2, 1}, {2, 1, 3, 0}};
    for (int i = 0; i < 2; i++) {
        for (int o = 0; o < 3; o++) {
            ln_case c = {tu_large() / cols[i] + 1, cols[i], 1e-5f, o == 1 ? 0 : 3, 0, {0, 0, 0, 0}};
            for (int d = 0; d < 4; d++) c.off[d] = offs[o][d];
            run_case(&g, v, c, PLAIN, t);
        }
        ln_case c = {tu_large() / cols[i] + 1, cols[i], 1e-5f, 3, 1, {1, 1, 2, 3}};
        run_case(&g, v, c, PLAIN, t);
    }
    tu_end(&g);
}

/* Seeded random rows (<= 64) x cols (<= 5000), mean/rstd, in place, offsets, eps, and
 * one case in four with mean 1e4, one in eight with NaN/Inf rows. */
static void group_fuzz(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "fuzz", t);
    static const float eps[] = {1e-5f, 1e-3f, 1e-6f, 0.5f};
    for (int i = 0; i < 40; i++) {
        ln_case c = {tu_fuzz_size(64), tu_fuzz_size(5000), eps[tu_rand_u64() % 4],
                     (int)(tu_rand_u64() % 4), (int)(tu_rand_u64() % 2), {0, 0, 0, 0}};
        for (int d = 0; d < 4; d++) c.off[d] = (ptrdiff_t)(tu_rand_u64() % 4);
        uint64_t r = tu_rand_u64() % 8;
        run_case(&g, v, c, r < 2 ? CANCEL : r == 2 ? NAN_ROWS : PLAIN, t);
    }
    tu_end(&g);
}

/* ---- bad input: one buffer: x (random), y (canary), gamma, beta, mean, rstd (canary) ---- */

typedef struct bad_env {
    tu_group *g;
    const char *name;
    tu_mat buf;
} bad_env;

static void expect(bad_env *e, kl_status want, const char *what, ptrdiff_t rows, ptrdiff_t cols,
                   const float *x, const float *gamma, const float *beta, float eps, float *y,
                   float *mean, float *rstd) {
    float *snap = tu_mat_snapshot(&e->buf);
    kl_status s = kl_layernorm_variant(e->name, rows, cols, x, gamma, beta, eps, y, mean, rstd);
    int same = tu_mat_same(&e->buf, snap);
    tu_check(e->g, s == want && same, "%s (rows=%td cols=%td eps=%g): status=%s, want %s; buffers %s",
             what, rows, cols, eps, kl_status_str(s), kl_status_str(want),
             same ? "untouched" : "MODIFIED");
    free(snap);
}

static void group_bad_input(const kl_variant *v) {
    tu_group g;
    tu_begin(&g, v, "bad_input", 0);
    bad_env e = {.g = &g, .name = v->name};
    tu_mat_alloc(&e.buf, 1, 1024, 1024, 0);
    tu_fill_uniform(&e.buf, -1.0f, 1.0f);
    float *p = e.buf.p, *x = p, *y = p + 256, *ga = p + 512, *be = p + 640, *mu = p + 768,
          *rs = p + 896; /* x, y: 4 x 16; gamma, beta: 16; mean, rstd: 4 */
    for (int i = 0; i < 64; i++) y[i] = e.buf.block[0];
    for (int i = 0; i < 4; i++) mu[i] = rs[i] = e.buf.block[0];
    const ptrdiff_t big = PTRDIFF_MAX / 2;
    const kl_status EI = KL_EINVAL;
    expect(&e, EI, "eps < 0", 4, 16, x, ga, be, -1e-5f, y, mu, rs);
    expect(&e, EI, "eps 0 (a constant row would be 0/0)", 4, 16, x, ga, be, 0.0f, y, mu, rs);
    expect(&e, EI, "eps -0", 4, 16, x, ga, be, -0.0f, y, mu, rs);
    expect(&e, EI, "eps NaN", 4, 16, x, ga, be, NAN, y, mu, rs);
    expect(&e, EI, "eps +Inf", 4, 16, x, ga, be, INFINITY, y, mu, rs);
    expect(&e, EI, "eps -Inf", 4, 16, x, ga, be, -INFINITY, y, mu, rs);
    expect(&e, EI, "x NULL", 4, 16, NULL, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "y NULL", 4, 16, x, ga, be, 1e-5f, NULL, mu, rs);
    expect(&e, EI, "gamma NULL", 4, 16, x, NULL, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "beta NULL", 4, 16, x, ga, NULL, 1e-5f, y, mu, rs);
    expect(&e, EI, "rows < 0", -1, 16, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "cols < 0", 4, -1, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "rows overflow", big, 16, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "cols overflow", 4, big, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "cols = PTRDIFF_MAX", 1, PTRDIFF_MAX, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, EI, "y = x + 1", 4, 16, x, ga, be, 1e-5f, x + 1, mu, rs);
    expect(&e, EI, "y = x - 1", 4, 16, x + 1, ga, be, 1e-5f, x, mu, rs);
    expect(&e, EI, "mean overlaps x", 4, 16, x, ga, be, 1e-5f, y, x + 2, rs);
    expect(&e, EI, "mean overlaps y", 4, 16, x, ga, be, 1e-5f, y, y + 60, rs);
    expect(&e, EI, "rstd overlaps x", 4, 16, x, ga, be, 1e-5f, y, mu, x + 61);
    expect(&e, EI, "rstd overlaps y", 4, 16, x, ga, be, 1e-5f, y, mu, y);
    expect(&e, EI, "mean overlaps x (no rstd)", 4, 16, x, ga, be, 1e-5f, y, x, NULL);
    expect(&e, EI, "rstd overlaps y (no mean)", 4, 16, x, ga, be, 1e-5f, y, NULL, y + 3);
    expect(&e, EI, "mean == rstd", 4, 16, x, ga, be, 1e-5f, y, mu, mu);
    expect(&e, EI, "mean overlaps rstd", 4, 16, x, ga, be, 1e-5f, y, mu, mu + 3);
    expect(&e, EI, "mean overlaps gamma", 4, 16, x, ga, be, 1e-5f, y, ga + 13, rs);
    expect(&e, EI, "y overlaps gamma", 4, 16, x, ga, be, 1e-5f, ga - 63, mu, rs);
    expect(&e, EI, "y overlaps beta", 4, 16, x, ga, be, 1e-5f, be - 10, mu, rs);
    expect(&e, KL_OK, "rows = 0", 0, 16, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, KL_OK, "cols = 0", 4, 0, x, ga, be, 1e-5f, y, mu, rs);
    expect(&e, KL_OK, "rows = 0, all NULL", 0, 16, NULL, NULL, NULL, 1e-5f, NULL, NULL, NULL);
    expect(&e, KL_OK, "cols = 0, all NULL", 4, 0, NULL, NULL, NULL, 1e-5f, NULL, NULL, NULL);
    tu_mat_free(&e.buf);
    tu_end(&g);
}

static void group_names(void) {
    tu_group g;
    tu_begin_op(&g, "layernorm", "names");
    float x[2] = {1, 2}, ga[2] = {1, 1}, be[2] = {0, 0}, y[2] = {9, 9};
    kl_status s = kl_layernorm_variant("no-such-variant", 1, 2, x, ga, be, 1e-5f, y, NULL, NULL);
    tu_check(&g, s == KL_ENOTFOUND && y[0] == 9, "unknown name: status=%s", kl_status_str(s));
    s = kl_layernorm_variant(NULL, 1, 2, x, ga, be, 1e-5f, y, NULL, NULL);
    tu_check(&g, s == KL_EINVAL && y[0] == 9, "NULL name: status=%s", kl_status_str(s));
    s = kl_layernorm_run(NULL, 1, 2, x, ga, be, 1e-5f, y, NULL, NULL);
    tu_check(&g, s == KL_EINVAL, "kl_layernorm_run(NULL): status=%s", kl_status_str(s));
    tu_end(&g);
}

int main(void) {
    tu_seed(0x6c6e6f726du);
    group_names();
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_LAYERNORM || !tu_available_or_skip(v)) continue;
        group_bad_input(v);
        int threads[64];
        size_t nt = tu_thread_counts(v, threads, 64);
        for (size_t ti = 0; ti < nt; ti++) {
            kl_set_num_threads(threads[ti]);
            group_shapes(v, threads[ti]);
            group_blocks(v, threads[ti]);
            group_offsets(v, threads[ti]);
            group_large(v, threads[ti]);
            group_fuzz(v, threads[ti]);
            group_cancellation(v, threads[ti]);
            group_far_shift(v, threads[ti]);
            group_nan(v, threads[ti]);
            group_row_blocks(v, threads[ti]);
        }
        kl_set_num_threads(0);
    }
    return tu_exit_code();
}
