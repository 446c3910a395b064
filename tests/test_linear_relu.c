/* linear_relu suite: every registered variant of C = relu(A.B + bias) against the float64
 * oracle (kl_check_linear_relu), over shapes that break tiling (0, 1, primes, +-1 around each
 * tile edge the variant reports), padded leading dimensions with canaries, unaligned bases,
 * bias NULL or not, NaN propagation, C never read, every thread count, and bad input
 * (KL_EINVAL with outputs untouched). */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct lr_case {
    ptrdiff_t m, n, k;
    int has_bias;
    ptrdiff_t pad[3]; /* lda - k, ldb - n, ldc - n */
    ptrdiff_t off[4]; /* floats past a 64-byte boundary for A, B, C, bias */
} lr_case;

enum fill { PLAIN, NAN_IN_A_ROW, NAN_IN_B_COL, NAN_IN_BIAS, INF_IN_BIAS, NULL_AB };

static ptrdiff_t max1(ptrdiff_t x) { return x > 1 ? x : 1; }

/* One call of v on case c: status OK, inputs unchanged, C's canaries intact, oracle ratio <= 1.
 * C starts as NaN everywhere: C is output only, so none of it may leak into the result. */
static void run_case(tu_group *g, const kl_variant *v, lr_case c, enum fill fill, int threads) {
    ptrdiff_t lda = max1(c.k + c.pad[0]), ldb = max1(c.n + c.pad[1]), ldc = max1(c.n + c.pad[2]);
    tu_mat A, B, C, bias;
    tu_mat_alloc(&A, c.m, c.k, lda, c.off[0]);
    tu_mat_alloc(&B, c.k, c.n, ldb, c.off[1]);
    tu_mat_alloc(&C, c.m, c.n, ldc, c.off[2]);
    tu_mat_alloc(&bias, 1, c.n, max1(c.n), c.off[3]);
    tu_fill_uniform(&A, -1.0f, 1.0f);
    tu_fill_uniform(&B, -1.0f, 1.0f);
    tu_fill_uniform(&bias, -1.0f, 1.0f);
    for (ptrdiff_t i = 0; i < c.m; i++)
        for (ptrdiff_t j = 0; j < c.n; j++) C.p[i * ldc + j] = NAN;
    if (fill == NAN_IN_A_ROW && c.m > 0 && c.k > 0) /* that row of C must be all NaN */
        A.p[c.m / 2 * lda + (ptrdiff_t)(tu_rand_u64() % (uint64_t)c.k)] = NAN;
    if (fill == NAN_IN_B_COL && c.n > 0 && c.k > 0) /* that column of C must be all NaN */
        B.p[(ptrdiff_t)(tu_rand_u64() % (uint64_t)c.k) * ldb + c.n / 2] = NAN;
    if ((fill == NAN_IN_BIAS || fill == INF_IN_BIAS) && c.n > 0) {
        bias.p[c.n / 2] = fill == NAN_IN_BIAS ? NAN : INFINITY;
        if (c.n > 1) bias.p[0] = -INFINITY; /* a column of exact zeros */
    }
    const float *pa = fill == NULL_AB ? NULL : A.p, *pb = fill == NULL_AB ? NULL : B.p;
    const float *pbias = c.has_bias ? bias.p : NULL;
    float *sa = tu_mat_snapshot(&A), *sb = tu_mat_snapshot(&B), *sbias = tu_mat_snapshot(&bias);

    kl_status s = kl_linear_relu_variant(v->name, c.m, c.n, c.k, pa, lda, pb, ldb, pbias, C.p, ldc);

    int inputs_same = tu_mat_same(&A, sa) && tu_mat_same(&B, sb) && tu_mat_same(&bias, sbias);
    ptrdiff_t canary = tu_mat_canary_broken(&C), where = -1;
    double worst = INFINITY;
    if (s == KL_OK)
        worst = kl_check_linear_relu(c.m, c.n, c.k, pa, lda, pb, ldb, pbias, C.p, ldc, &where);
    static const char *const what[] = {"", " (NaN in a row of A)", " (NaN in a column of B)",
                                       " (NaN, -Inf in bias)", " (+Inf, -Inf in bias)",
                                       " (A=B=NULL)"};
    tu_check(g, s == KL_OK && inputs_same && canary < 0 && worst <= 1.0,
             "m=%td n=%td k=%td bias=%s lda=%td ldb=%td ldc=%td off=%td,%td,%td,%td "
             "threads=%d%s: status=%s inputs_unchanged=%d canary_broken_at=%td "
             "worst_ratio=%.3g at C[%td][%td]",
             c.m, c.n, c.k, c.has_bias ? "yes" : "NULL", lda, ldb, ldc, c.off[0], c.off[1],
             c.off[2], c.off[3], threads, what[fill], kl_status_str(s), inputs_same, canary,
             worst, where >= 0 ? where / ldc : -1, where >= 0 ? where % ldc : -1);
    free(sa), free(sb), free(sbias);
    tu_mat_free(&A), tu_mat_free(&B), tu_mat_free(&C), tu_mat_free(&bias);
}

static lr_case shape(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, size_t idx) {
    return (lr_case){m, n, k, idx % 4 != 3, {0, 0, 0}, {0, 0, 0, 0}}; /* 1 in 4 without bias */
}

/* 0..13 cubed, 2^j+-1 mixes, primes cubed up to 257, tall and skinny. */
static void group_shapes(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "shapes", t);
    static const ptrdiff_t small[] = {0, 1, 2, 3, 5, 7, 13};
    size_t idx = 0;
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 7; b++)
            for (size_t c = 0; c < 7; c++)
                run_case(&g, v, shape(small[a], small[b], small[c], idx++), PLAIN, t);
    static const ptrdiff_t pow2[] = {1, 8, 15, 16, 17, 33, 64, 65};
    for (size_t a = 0; a < 8; a++)
        for (size_t b = 0; b < 8; b++)
            for (size_t c = 0; c < 8; c += 3)
                run_case(&g, v, shape(pow2[a], pow2[b], pow2[c], idx++), PLAIN, t);
    ptrdiff_t edge[64];
    size_t ne = tu_edge_sizes(edge, 64, 257);
    for (size_t i = 0; i < ne; i++)
        if (edge[i] > 13) run_case(&g, v, shape(edge[i], edge[i], edge[i], idx++), PLAIN, t);
    static const ptrdiff_t odd[][3] = {{61, 7, 127}, {127, 61, 7}, {7, 127, 61}, {1, 257, 3},
                                       {257, 1, 3}, {3, 3, 257}, {1000, 3, 17}, {17, 1000, 3},
                                       {1, 1, 1000}, {2, 1000, 31}};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        run_case(&g, v, shape(odd[i][0], odd[i][1], odd[i][2], idx++), PLAIN, t);
    tu_end(&g);
}

/* Around every tile edge (tu_gemm_block_shapes): KC +-1 puts the epilogue on a short last
 * KC block; NC +-1 a second column panel, where bias must be offset by jc. */
static void group_blocks(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "blocks", t);
    size_t count = tu_gemm_block_shapes(v, NULL, 0);
    ptrdiff_t (*shapes)[3] = malloc(sizeof *shapes * (count ? count : 1));
    tu_check(&g, shapes != NULL, "out of memory for %zu shapes", count);
    if (shapes) tu_gemm_block_shapes(v, shapes, count);
    for (size_t i = 0; shapes && i < count; i++)
        run_case(&g, v, shape(shapes[i][0], shapes[i][1], shapes[i][2], i), PLAIN, t);
    free(shapes);
    tu_end(&g);
}

/* Padded leading dimensions x unaligned bases (1..3 floats past 64 bytes), bias or not. */
static void group_ld_offset(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "ld_offset", t);
    static const ptrdiff_t shapes[][3] = {{1, 1, 1}, {13, 17, 19}, {33, 65, 7}, {64, 64, 64}, {100, 3, 50}};
    static const ptrdiff_t pads[][3] = {{0, 0, 0}, {3, 0, 0}, {0, 3, 0}, {0, 0, 3}, {5, 7, 1}, {17, 1, 33}};
    static const ptrdiff_t offs[][4] = {{0, 0, 0, 0}, {1, 2, 3, 1}, {3, 1, 2, 2}, {2, 3, 1, 3}};
    size_t idx = 0;
    for (size_t s = 0; s < 5; s++)
        for (size_t p = 0; p < 6; p++)
            for (size_t o = 0; o < 4; o++) {
                lr_case c = shape(shapes[s][0], shapes[s][1], shapes[s][2], idx++);
                for (int d = 0; d < 3; d++) c.pad[d] = pads[p][d];
                for (int d = 0; d < 4; d++) c.off[d] = offs[o][d];
                run_case(&g, v, c, PLAIN, t);
            }
    tu_end(&g);
}

/* NaN in A's row, B's column or bias propagates; +-Inf in bias gives +Inf / 0; k == 0 reads
 * neither A nor B (NULL allowed) and gives relu(bias). */
static void group_nan(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "nan_inf", t);
    static const ptrdiff_t few[][3] = {{1, 1, 1}, {17, 33, 9}, {64, 64, 64}, {65, 63, 129}, {7, 300, 600}};
    for (size_t s = 0; s < 5; s++)
        for (int b = 0; b < 2; b++) {
            lr_case c = shape(few[s][0], few[s][1], few[s][2], 0);
            c.has_bias = b;
            run_case(&g, v, c, NAN_IN_A_ROW, t);
            run_case(&g, v, c, NAN_IN_B_COL, t);
            if (b) run_case(&g, v, c, NAN_IN_BIAS, t), run_case(&g, v, c, INF_IN_BIAS, t);
            c.k = 0;
            run_case(&g, v, c, NULL_AB, t);
            if (b) run_case(&g, v, c, NAN_IN_BIAS, t);
        }
    tu_end(&g);
}

/* Seeded random shapes up to 200, pads 0..4, offsets 0..3, bias or not. */
static void group_fuzz(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "fuzz", t);
    for (int i = 0; i < 40; i++) {
        lr_case c = shape(tu_fuzz_size(200), tu_fuzz_size(200), tu_fuzz_size(200), tu_rand_u64());
        for (int d = 0; d < 3; d++)
            c.pad[d] = (ptrdiff_t)(tu_rand_u64() % 3 ? 0 : 1 + tu_rand_u64() % 4);
        for (int d = 0; d < 4; d++) c.off[d] = (ptrdiff_t)(tu_rand_u64() % 4);
        run_case(&g, v, c, PLAIN, t);
    }
    tu_end(&g);
}

/* ---- bad input ---- */

typedef struct bad_env {
    tu_group *g;
    const char *name;
    tu_mat X; /* one 64x64 buffer: A, B, bias and C are carved from it */
} bad_env;

static void expect(bad_env *e, kl_status want, const char *what, ptrdiff_t m, ptrdiff_t n,
                   ptrdiff_t k, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                   const float *bias, float *C, ptrdiff_t ldc) {
    float *snap = tu_mat_snapshot(&e->X);
    kl_status s = kl_linear_relu_variant(e->name, m, n, k, A, lda, B, ldb, bias, C, ldc);
    int same = tu_mat_same(&e->X, snap);
    tu_check(e->g, s == want && same,
             "%s (m=%td n=%td k=%td lda=%td ldb=%td ldc=%td): status=%s, want %s; buffers %s",
             what, m, n, k, lda, ldb, ldc, kl_status_str(s), kl_status_str(want),
             same ? "untouched" : "MODIFIED");
    free(snap);
}

static void group_bad_input(const kl_variant *v) {
    tu_group g;
    tu_begin(&g, v, "bad_input", 0);
    bad_env e = {.g = &g, .name = v->name};
    tu_mat_alloc(&e.X, 64, 64, 64, 0);
    tu_fill_uniform(&e.X, -1.0f, 1.0f);
    /* 4x4 each, ld 4, disjoint; bias[4] between B and C */
    float *A = e.X.p, *B = e.X.p + 1024, *bias = e.X.p + 1536, *C = e.X.p + 2048;
    const ptrdiff_t big = PTRDIFF_MAX / 2;
    const kl_status EI = KL_EINVAL;
    expect(&e, EI, "A NULL", 4, 4, 4, NULL, 4, B, 4, bias, C, 4);
    expect(&e, EI, "B NULL", 4, 4, 4, A, 4, NULL, 4, bias, C, 4);
    expect(&e, EI, "C NULL", 4, 4, 4, A, 4, B, 4, bias, NULL, 4);
    expect(&e, EI, "m < 0", -1, 4, 4, A, 4, B, 4, bias, C, 4);
    expect(&e, EI, "n < 0", 4, -1, 4, A, 4, B, 4, bias, C, 4);
    expect(&e, EI, "k < 0", 4, 4, -1, A, 4, B, 4, bias, C, 4);
    expect(&e, EI, "n < 0, bias NULL", 4, -1, 4, A, 4, B, 4, NULL, C, 4);
    expect(&e, EI, "m overflows", big, 4, 4, A, 4, B, 4, bias, C, 4);
    expect(&e, EI, "n overflows", 4, big, 4, A, 4, B, big, bias, C, big);
    expect(&e, EI, "lda < k", 4, 4, 4, A, 3, B, 4, bias, C, 4);
    expect(&e, EI, "ldb < n", 4, 4, 4, A, 4, B, 3, bias, C, 4);
    expect(&e, EI, "ldc < n", 4, 4, 4, A, 4, B, 4, bias, C, 3);
    expect(&e, EI, "ldc = 0", 4, 4, 4, A, 4, B, 4, bias, C, 0);
    expect(&e, EI, "C == A", 4, 4, 4, A, 4, B, 4, bias, A, 4);
    expect(&e, EI, "C overlaps B", 4, 4, 4, A, 4, B, 4, bias, B + 5, 4);
    expect(&e, EI, "C == bias", 4, 4, 4, A, 4, B, 4, bias, (float *)bias, 4);
    expect(&e, EI, "bias's last = C's first", 4, 4, 4, A, 4, B, 4, C - 3, C, 4);
    expect(&e, EI, "bias inside C's padding rows", 4, 4, 4, A, 4, B, 4, C + 6, C, 8);
    expect(&e, EI, "C overlaps bias, k = 0", 4, 4, 0, NULL, 1, NULL, 4, C + 2, C, 4);
    /* zero sizes are no-ops: OK, nothing written; empty operands may be NULL */
    expect(&e, KL_OK, "m = 0", 0, 4, 4, A, 4, B, 4, bias, C, 4);
    expect(&e, KL_OK, "n = 0", 4, 0, 4, A, 4, B, 4, bias, C, 4);
    expect(&e, KL_OK, "all zero, all NULL", 0, 0, 0, NULL, 1, NULL, 1, NULL, NULL, 1);
    tu_mat_free(&e.X);
    tu_end(&g);
}

/* Names that are no variant; the best-variant entry point. */
static void group_names(void) {
    tu_group g;
    tu_begin_op(&g, "linear_relu", "names");
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, -1}, bias[2] = {0.5f, 0}, C[4] = {9, 9, 9, 9};
    kl_status s = kl_linear_relu_variant("no-such-variant", 2, 2, 2, A, 2, B, 2, bias, C, 2);
    tu_check(&g, s == KL_ENOTFOUND && C[0] == 9 && C[3] == 9, "unknown name: status=%s", kl_status_str(s));
    s = kl_linear_relu_variant(NULL, 2, 2, 2, A, 2, B, 2, bias, C, 2);
    tu_check(&g, s == KL_EINVAL && C[0] == 9, "NULL name: status=%s", kl_status_str(s));
    s = kl_linear_relu_run(NULL, 2, 2, 2, A, 2, B, 2, bias, C, 2);
    tu_check(&g, s == KL_EINVAL, "kl_linear_relu_run(NULL): status=%s", kl_status_str(s));
    s = kl_linear_relu_run(kl_best_variant(KL_OP_MATMUL), 2, 2, 2, A, 2, B, 2, bias, C, 2);
    tu_check(&g, s == KL_EINVAL && C[0] == 9, "a matmul row: status=%s", kl_status_str(s));
    /* [1 2; 3 4] . [1 0; 0 -1] + [0.5 0] = [1.5 -2; 3.5 -4] -> relu */
    s = kl_linear_relu(2, 2, 2, A, 2, B, 2, bias, C, 2);
    tu_check(&g, s == KL_OK && C[0] == 1.5f && C[1] == 0 && C[2] == 3.5f && C[3] == 0,
             "kl_linear_relu 2x2: status=%s C = %g %g %g %g", kl_status_str(s), C[0], C[1], C[2], C[3]);
    tu_end(&g);
}

int main(void) {
    tu_seed(0x6c696e72656c75u);
    group_names();
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_LINEAR_RELU || !tu_available_or_skip(v)) continue;
        group_bad_input(v);
        int threads[64];
        size_t nt = tu_thread_counts(v, threads, 64);
        for (size_t ti = 0; ti < nt; ti++) {
            kl_set_num_threads(threads[ti]);
            group_shapes(v, threads[ti]);
            group_blocks(v, threads[ti]);
            group_ld_offset(v, threads[ti]);
            group_nan(v, threads[ti]);
            group_fuzz(v, threads[ti]);
        }
        kl_set_num_threads(0);
    }
    return tu_exit_code();
}
