/* ReLU suite: every registered variant, exact against the oracle, in place and out of place,
 * over lengths around powers of two and tile edges, unaligned bases, NaN/Inf, every thread
 * count, and bad input (KL_EINVAL with outputs untouched). */
#include "test_util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

enum fill { PLAIN, SPECIAL };

/* Random values with signed zeros and subnormals mixed in. SPECIAL puts NaN, +-Inf and
 * extremes in the first and last 12 slots (head and tail paths) and in a quarter of the rest. */
static void fill_x(float *x, ptrdiff_t n, enum fill fill) {
    static const float special[] = {NAN, -INFINITY, INFINITY, -NAN, 0.0f, -0.0f, FLT_MAX,
                                    -FLT_MAX, FLT_MIN, -FLT_MIN, 1e-40f, -1e-40f};
    for (ptrdiff_t i = 0; i < n; i++) {
        uint64_t r = tu_rand_u64() % 16;
        x[i] = tu_uniform(-2.0f, 2.0f);
        if (r == 0) x[i] = (tu_rand_u64() & 1) ? 0.0f : -0.0f;
        if (r == 1) x[i] = tu_uniform(-1e-39f, 1e-39f); /* subnormal */
        if (fill == SPECIAL && r >= 12) x[i] = special[tu_rand_u64() % 12];
        if (fill == SPECIAL && i < 12) x[i] = special[i];
        if (fill == SPECIAL && i >= 12 && n - i <= 12) x[i] = special[n - 1 - i];
    }
}

/* One call: status OK, x unchanged (out of place), canaries intact, y exact. */
static void run_case(tu_group *g, const kl_variant *v, ptrdiff_t n, ptrdiff_t ox, ptrdiff_t oy,
                     int in_place, enum fill fill, int threads) {
    tu_mat X, Y;
    /* x's canary is negative: an in-place overrun would turn it into 0 */
    tu_mat_alloc_canary(&X, 1, n, n > 0 ? n : 1, ox, 0xfe5a5a5au);
    tu_mat_alloc(&Y, 1, n, n > 0 ? n : 1, oy);
    fill_x(X.p, n, fill);
    float *sx = tu_mat_snapshot(&X);
    const float *x0 = sx + (X.p - X.block); /* the input as it was */
    float *y = in_place ? X.p : Y.p;

    kl_status s = kl_relu_variant(v->name, n, X.p, y);

    int x_ok = in_place || tu_mat_same(&X, sx);
    ptrdiff_t canary = tu_mat_canary_broken(in_place ? &X : &Y), where = -1;
    double worst = s == KL_OK ? kl_check_relu(n, x0, y, &where) : INFINITY;
    tu_check(g, s == KL_OK && x_ok && canary < 0 && worst <= 1.0,
             "n=%td %s off_x=%td off_y=%td threads=%d%s: status=%s x_unchanged=%d "
             "canary_broken_at=%td worst_ratio=%.3g at %td (x=%g y=%g)",
             n, in_place ? "in place" : "out of place", ox, in_place ? ox : oy, threads,
             fill == SPECIAL ? " (NaN/Inf)" : "", kl_status_str(s), x_ok, canary, worst, where,
             where >= 0 ? x0[where] : 0.0, where >= 0 ? y[where] : 0.0);
    free(sx);
    tu_mat_free(&X), tu_mat_free(&Y);
}

/* 0..3, primes, 2^j+-1 up to 2^16, one large length, tile edges +-1; in and out of place. */
static void group_shapes(const kl_variant *v, int t, enum fill fill, const char *name) {
    tu_group g;
    tu_begin(&g, v, name, t);
    ptrdiff_t n[256];
    size_t count = tu_edge_sizes(n, 256, 1 << 16);
    count = tu_add(n, count, 256, (1 << 20) + 3, PTRDIFF_MAX);
    ptrdiff_t blocks[128];
    size_t nb = tu_block_sizes(v, blocks, 128);
    for (size_t i = 0; i < nb; i++) count = tu_add(n, count, 256, blocks[i], PTRDIFF_MAX);
    for (size_t i = 0; i < count; i++) {
        run_case(&g, v, n[i], 0, 0, 0, fill, t);
        run_case(&g, v, n[i], 0, 0, 1, fill, t);
    }
    tu_end(&g);
}

/* Unaligned bases: x and y each 0..3 floats past a 64-byte boundary. */
static void group_offsets(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "offsets", t);
    static const ptrdiff_t n[] = {1, 7, 15, 16, 17, 33, 67, 1027};
    for (size_t i = 0; i < sizeof n / sizeof n[0]; i++)
        for (ptrdiff_t ox = 0; ox < 4; ox++) {
            for (ptrdiff_t oy = 0; oy < 4; oy++) run_case(&g, v, n[i], ox, oy, 0, PLAIN, t);
            run_case(&g, v, n[i], ox, ox, 1, PLAIN, t);
        }
    tu_end(&g);
}

/* Past the non-temporal-store threshold, where the y head is peeled to alignment. */
static void group_large(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "large", t);
    static const ptrdiff_t offs[][2] = {{0, 0}, {0, 1}, {1, 2}, {3, 3}, {2, 0}};
    ptrdiff_t n = tu_large() + 3;
    for (int i = 0; i < 5; i++) run_case(&g, v, n, offs[i][0], offs[i][1], 0, PLAIN, t);
    run_case(&g, v, n, 1, 1, 1, PLAIN, t);
    tu_end(&g);
}

/* Seeded random lengths up to 1e5, offsets, in/out of place, NaN/Inf one time in four. */
static void group_fuzz(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "fuzz", t);
    for (int i = 0; i < 60; i++) {
        ptrdiff_t n = tu_fuzz_size(100000), ox = (ptrdiff_t)(tu_rand_u64() % 4);
        int in_place = tu_rand_u64() % 3 == 0;
        ptrdiff_t oy = in_place ? ox : (ptrdiff_t)(tu_rand_u64() % 4);
        run_case(&g, v, n, ox, oy, in_place, tu_rand_u64() % 4 ? PLAIN : SPECIAL, t);
    }
    tu_end(&g);
}

/* ---- bad input: one buffer holds x (random) then y (canary); all of it must be untouched ---- */

static void expect(tu_group *g, const char *name, tu_mat *buf, kl_status want, const char *what,
                   ptrdiff_t n, const float *x, float *y) {
    float *snap = tu_mat_snapshot(buf);
    kl_status s = kl_relu_variant(name, n, x, y);
    int same = tu_mat_same(buf, snap);
    tu_check(g, s == want && same, "%s (n=%td): status=%s, want %s; buffers %s", what, n,
             kl_status_str(s), kl_status_str(want), same ? "untouched" : "MODIFIED");
    free(snap);
}

static void group_bad_input(const kl_variant *v) {
    tu_group g;
    tu_begin(&g, v, "bad_input", 0);
    tu_mat buf;
    tu_mat_alloc(&buf, 1, 256, 256, 0);
    tu_fill_uniform(&buf, -1.0f, 1.0f);
    float *x = buf.p, *y = buf.p + 128;
    for (int i = 0; i < 128; i++) y[i] = buf.block[0]; /* canary */
    const char *nm = v->name;
    expect(&g, nm, &buf, KL_EINVAL, "x NULL", 16, NULL, y);
    expect(&g, nm, &buf, KL_EINVAL, "y NULL", 16, x, NULL);
    expect(&g, nm, &buf, KL_EINVAL, "n < 0", -1, x, y);
    expect(&g, nm, &buf, KL_EINVAL, "n overflows", PTRDIFF_MAX / 2, x, y);
    expect(&g, nm, &buf, KL_EINVAL, "n = PTRDIFF_MAX", PTRDIFF_MAX, x, y);
    expect(&g, nm, &buf, KL_EINVAL, "y = x + 1", 16, x, x + 1);
    expect(&g, nm, &buf, KL_EINVAL, "y = x - 1", 16, x + 1, x);
    expect(&g, nm, &buf, KL_EINVAL, "y's first = x's last", 16, x, x + 15);
    expect(&g, nm, &buf, KL_OK, "n = 0", 0, x, y);
    expect(&g, nm, &buf, KL_OK, "n = 0, x = y = NULL", 0, NULL, NULL);
    tu_mat_free(&buf);
    tu_end(&g);
}

static void group_names(void) {
    tu_group g;
    tu_begin_op(&g, "relu", "names");
    float x[2] = {-1, 1}, y[2] = {9, 9};
    kl_status s = kl_relu_variant("no-such-variant", 2, x, y);
    tu_check(&g, s == KL_ENOTFOUND && y[0] == 9, "unknown name: status=%s", kl_status_str(s));
    s = kl_relu_variant(NULL, 2, x, y);
    tu_check(&g, s == KL_EINVAL && y[0] == 9, "NULL name: status=%s", kl_status_str(s));
    s = kl_relu_run(NULL, 2, x, y);
    tu_check(&g, s == KL_EINVAL, "kl_relu_run(NULL): status=%s", kl_status_str(s));
    tu_end(&g);
}

int main(void) {
    tu_seed(0x72656c75u);
    group_names();
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_RELU || !tu_available_or_skip(v)) continue;
        group_bad_input(v);
        int threads[64];
        size_t nt = tu_thread_counts(v, threads, 64);
        for (size_t ti = 0; ti < nt; ti++) {
            kl_set_num_threads(threads[ti]);
            group_shapes(v, threads[ti], PLAIN, "shapes");
            group_offsets(v, threads[ti]);
            group_large(v, threads[ti]);
            group_fuzz(v, threads[ti]);
            group_shapes(v, threads[ti], SPECIAL, "nan_inf");
        }
        kl_set_num_threads(0);
    }
    return tu_exit_code();
}
