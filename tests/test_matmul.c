/* Matmul suite: every registered variant against the float64 oracle, over shapes that break
 * tiling, padded leading dimensions, unaligned bases, alpha/beta pairs, NaN rules, every
 * thread count, and bad input (KL_EINVAL with outputs untouched). */
#include "test_util.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct mm_case {
    ptrdiff_t m, n, k;
    float alpha, beta;
    ptrdiff_t pad[3]; /* lda - k, ldb - n, ldc - n */
    ptrdiff_t off[3]; /* floats past a 64-byte boundary for A, B, C */
} mm_case;

enum fill { PLAIN, NAN_IN_C, NAN_IN_A_ROW, NAN_IN_AB, NULL_AB };

static ptrdiff_t max1(ptrdiff_t x) { return x > 1 ? x : 1; }

/* One call of v on case c: status OK, A and B unchanged, C's canaries intact, oracle ratio <= 1. */
static void run_case(tu_group *g, const kl_variant *v, mm_case c, enum fill fill, int threads) {
    ptrdiff_t lda = max1(c.k + c.pad[0]), ldb = max1(c.n + c.pad[1]), ldc = max1(c.n + c.pad[2]);
    tu_mat A, B, C;
    tu_mat_alloc(&A, c.m, c.k, lda, c.off[0]);
    tu_mat_alloc(&B, c.k, c.n, ldb, c.off[1]);
    tu_mat_alloc(&C, c.m, c.n, ldc, c.off[2]);
    tu_fill_uniform(&A, -1.0f, 1.0f);
    tu_fill_uniform(&B, -1.0f, 1.0f);
    tu_fill_uniform(&C, -1.0f, 1.0f);
    ptrdiff_t nan_row = -1;
    if (fill == NAN_IN_C)
        for (ptrdiff_t i = 0; i < c.m; i++)
            for (ptrdiff_t j = 0; j < c.n; j++) C.p[i * ldc + j] = NAN;
    if (fill == NAN_IN_A_ROW && c.m > 0 && c.k > 0) {
        nan_row = c.m / 2; /* one NaN in one row: that row of C must be all NaN */
        A.p[nan_row * lda + (ptrdiff_t)(tu_rand_u64() % (uint64_t)c.k)] = NAN;
    }
    if (fill == NAN_IN_AB) { /* alpha == 0: A and B must not be read */
        for (ptrdiff_t i = 0; i < c.m; i++)
            for (ptrdiff_t p = 0; p < c.k; p++) A.p[i * lda + p] = NAN;
        for (ptrdiff_t p = 0; p < c.k; p++)
            for (ptrdiff_t j = 0; j < c.n; j++) B.p[p * ldb + j] = INFINITY;
    }
    const float *pa = fill == NULL_AB ? NULL : A.p, *pb = fill == NULL_AB ? NULL : B.p;
    float *sa = tu_mat_snapshot(&A), *sb = tu_mat_snapshot(&B), *sc = tu_mat_snapshot(&C);

    kl_status s = kl_matmul_variant(v->name, c.m, c.n, c.k, c.alpha, pa, lda, pb, ldb, c.beta,
                                    C.p, ldc);

    int inputs_same = tu_mat_same(&A, sa) && tu_mat_same(&B, sb);
    ptrdiff_t canary = tu_mat_canary_broken(&C), where = -1;
    double worst = INFINITY;
    if (s == KL_OK)
        worst = kl_check_matmul(c.m, c.n, c.k, c.alpha, pa, lda, pb, ldb, c.beta,
                                sc + (C.p - C.block), C.p, ldc, &where);
    tu_check(g, s == KL_OK && inputs_same && canary < 0 && worst <= 1.0,
             "m=%td n=%td k=%td alpha=%g beta=%g lda=%td ldb=%td ldc=%td off=%td,%td,%td "
             "threads=%d%s: status=%s inputs_unchanged=%d canary_broken_at=%td "
             "worst_ratio=%.3g at C[%td][%td]",
             c.m, c.n, c.k, c.alpha, c.beta, lda, ldb, ldc, c.off[0], c.off[1], c.off[2], threads,
             fill == NAN_IN_C ? " (NaN in C)" : fill == NAN_IN_A_ROW ? " (NaN in a row of A)"
             : fill == NAN_IN_AB ? " (NaN/Inf in A/B)" : fill == NULL_AB ? " (A=B=NULL)" : "",
             kl_status_str(s), inputs_same, canary, worst, where >= 0 ? where / ldc : -1,
             where >= 0 ? where % ldc : -1);
    free(sa), free(sb), free(sc);
    tu_mat_free(&A), tu_mat_free(&B), tu_mat_free(&C);
}

static const float ab_pairs[][2] = {{1, 0}, {1, 1}, {-0.5f, 2}, {1.5f, 0}, {2, -1},
                                    {0, 1}, {0, 0}, {0, -3},    {-1, 0.5f}};
#define N_AB (sizeof ab_pairs / sizeof ab_pairs[0])

static mm_case shape(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, size_t ab) {
    return (mm_case){m, n, k, ab_pairs[ab % N_AB][0], ab_pairs[ab % N_AB][1], {0, 0, 0}, {0, 0, 0}};
}

/* 0..13 cubed, 2^j+-1 and primes cubed up to 257, mixed primes, tall and skinny. */
static void group_shapes(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "shapes", t);
    static const ptrdiff_t small[] = {0, 1, 2, 3, 5, 7, 13};
    size_t idx = 0;
    for (size_t a = 0; a < 7; a++)
        for (size_t b = 0; b < 7; b++)
            for (size_t c = 0; c < 7; c++)
                run_case(&g, v, shape(small[a], small[b], small[c], idx++), PLAIN, t);
    static const ptrdiff_t pow2[] = {1, 8, 15, 16, 17, 33, 64, 65}; /* every mix, not just cubes */
    for (size_t a = 0; a < 8; a++)
        for (size_t b = 0; b < 8; b++)
            for (size_t c = 0; c < 8; c++)
                run_case(&g, v, shape(pow2[a], pow2[b], pow2[c], idx++), PLAIN, t);
    ptrdiff_t edge[64];
    size_t ne = tu_edge_sizes(edge, 64, 257);
    for (size_t i = 0; i < ne; i++)
        if (edge[i] > 13) run_case(&g, v, shape(edge[i], edge[i], edge[i], idx++), PLAIN, t);
    static const ptrdiff_t odd[][3] = {
        {61, 7, 127}, {127, 61, 7}, {7, 127, 61}, {1, 257, 3}, {257, 1, 3}, {3, 3, 257},
        {31, 257, 13}, {1000, 3, 3}, {3, 1000, 3}, {3, 3, 1000}, {1000, 3, 17}, {17, 1000, 3},
        {1000, 1, 1}, {1, 1000, 1}, {1, 1, 1000}, {1000, 17, 1}, {2, 1000, 31}};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
        run_case(&g, v, shape(odd[i][0], odd[i][1], odd[i][2], idx++), PLAIN, t);
    tu_end(&g);
}

/* Around every tile edge (tu_gemm_block_shapes), alpha/beta varying with the shape. */
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

/* Padded leading dimensions x unaligned bases (1..3 floats past 64 bytes). */
static void group_ld_offset(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "ld_offset", t);
    static const ptrdiff_t shapes[][3] = {{1, 1, 1}, {13, 17, 19}, {33, 65, 7}, {64, 64, 64}, {100, 3, 50}};
    static const ptrdiff_t pads[][3] = {{0, 0, 0}, {3, 0, 0}, {0, 3, 0}, {0, 0, 3}, {5, 7, 1}, {17, 1, 33}};
    static const ptrdiff_t offs[][3] = {{0, 0, 0}, {1, 2, 3}, {3, 1, 2}, {2, 3, 1}};
    size_t idx = 0;
    for (size_t s = 0; s < 5; s++)
        for (size_t p = 0; p < 6; p++)
            for (size_t o = 0; o < 4; o++) {
                mm_case c = shape(shapes[s][0], shapes[s][1], shapes[s][2], idx++);
                for (int d = 0; d < 3; d++) c.pad[d] = pads[p][d], c.off[d] = offs[o][d];
                run_case(&g, v, c, PLAIN, t);
            }
    tu_end(&g);
}

static const ptrdiff_t few[][3] = {{1, 1, 1}, {17, 33, 9}, {64, 64, 64}, {65, 63, 129}};

static void group_alpha_beta(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "alpha_beta", t);
    for (size_t s = 0; s < 4; s++)
        for (size_t ab = 0; ab < N_AB; ab++)
            run_case(&g, v, shape(few[s][0], few[s][1], few[s][2], ab), PLAIN, t);
    tu_end(&g);
}

/* kernellab.h: beta == 0 never reads C; a NaN in A poisons its row; alpha == 0 or k == 0
 * never reads A or B. */
static void group_nan(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "nan_inf", t);
    for (size_t s = 0; s < 4; s++) {
        mm_case c = shape(few[s][0], few[s][1], few[s][2], 0);
        static const float alphas[] = {1, -0.5f, 0};
        for (int a = 0; a < 3; a++) {
            c.alpha = alphas[a], c.beta = 0;
            run_case(&g, v, c, NAN_IN_C, t);
        }
        c.alpha = 1;
        for (c.beta = 0; c.beta <= 1; c.beta++) run_case(&g, v, c, NAN_IN_A_ROW, t);
        c.alpha = 0;
        static const float betas[] = {1, 2, 0};
        for (int b = 0; b < 3; b++) {
            c.beta = betas[b];
            run_case(&g, v, c, NAN_IN_AB, t);
        }
        c.alpha = 1.5f, c.beta = 0.5f, c.k = 0;
        run_case(&g, v, c, NULL_AB, t);
    }
    tu_end(&g);
}

/* Seeded random shapes up to 200, leading-dimension pads 0..4, offsets 0..3, alpha/beta. */
static void group_fuzz(const kl_variant *v, int t) {
    tu_group g;
    tu_begin(&g, v, "fuzz", t);
    for (int i = 0; i < 40; i++) {
        mm_case c = shape(tu_fuzz_size(200), tu_fuzz_size(200), tu_fuzz_size(200), tu_rand_u64() % N_AB);
        for (int d = 0; d < 3; d++) {
            c.pad[d] = (ptrdiff_t)(tu_rand_u64() % 3 ? 0 : 1 + tu_rand_u64() % 4);
            c.off[d] = (ptrdiff_t)(tu_rand_u64() % 4);
        }
        run_case(&g, v, c, PLAIN, t);
    }
    tu_end(&g);
}

/* ---- bad input ---- */

typedef struct bad_env {
    tu_group *g;
    const char *name;
    tu_mat X; /* one 64x64 buffer: A, B and C are carved from it, C is all canary */
    float *A, *B, *C;
} bad_env;

static void expect(bad_env *e, kl_status want, const char *what, ptrdiff_t m, ptrdiff_t n,
                   ptrdiff_t k, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                   float *C, ptrdiff_t ldc) {
    float *snap = tu_mat_snapshot(&e->X);
    kl_status s = kl_matmul_variant(e->name, m, n, k, 1.0f, A, lda, B, ldb, 0.5f, C, ldc);
    int same = tu_mat_same(&e->X, snap);
    tu_check(e->g, s == want && same,
             "%s (m=%td n=%td k=%td lda=%td ldb=%td ldc=%td): status=%s, want %s; buffers %s",
             what, m, n, k, lda, ldb, ldc, kl_status_str(s), kl_status_str(want),
             same ? "untouched" : "MODIFIED");
    free(snap);
}

static void bad_input(tu_group *g, const char *name) {
    bad_env e = {.g = g, .name = name};
    tu_mat_alloc(&e.X, 64, 64, 64, 0);
    tu_fill_uniform(&e.X, -1.0f, 1.0f);
    e.A = e.X.p, e.B = e.X.p + 1024, e.C = e.X.p + 2048; /* 4x4 each, ld 4, disjoint */
    for (int i = 2048; i < 4096; i++) e.C[i - 2048] = e.X.block[0]; /* canary-filled output */
    const ptrdiff_t big = PTRDIFF_MAX / 2;
    float *A = e.A, *B = e.B, *C = e.C;
    const kl_status EI = KL_EINVAL;
    expect(&e, EI, "A NULL", 4, 4, 4, NULL, 4, B, 4, C, 4);
    expect(&e, EI, "B NULL", 4, 4, 4, A, 4, NULL, 4, C, 4);
    expect(&e, EI, "C NULL", 4, 4, 4, A, 4, B, 4, NULL, 4);
    expect(&e, EI, "m < 0", -1, 4, 4, A, 4, B, 4, C, 4);
    expect(&e, EI, "n < 0", 4, -1, 4, A, 4, B, 4, C, 4);
    expect(&e, EI, "k < 0", 4, 4, -1, A, 4, B, 4, C, 4);
    expect(&e, EI, "m < 0, n == 0", -1, 0, 4, A, 4, B, 4, C, 4);
    expect(&e, EI, "m overflows", big, 4, 4, A, 4, B, 4, C, 4);
    expect(&e, EI, "n overflows", 4, big, 4, A, 4, B, big, C, big);
    expect(&e, EI, "k overflows", 4, 4, big, A, big, B, 4, C, 4);
    expect(&e, EI, "lda overflows", 4, 4, 4, A, big, B, 4, C, 4);
    expect(&e, EI, "ldc overflows", 4, 4, 4, A, 4, B, 4, C, big);
    expect(&e, EI, "m = PTRDIFF_MAX", PTRDIFF_MAX, 1, 1, A, 1, B, 1, C, 1);
    expect(&e, EI, "lda < k", 4, 4, 4, A, 3, B, 4, C, 4);
    expect(&e, EI, "ldb < n", 4, 4, 4, A, 4, B, 3, C, 4);
    expect(&e, EI, "ldc < n", 4, 4, 4, A, 4, B, 4, C, 3);
    expect(&e, EI, "lda = 0", 4, 4, 4, A, 0, B, 4, C, 4);
    expect(&e, EI, "ldb = 0", 4, 4, 4, A, 4, B, 0, C, 4);
    expect(&e, EI, "ldc = 0", 4, 4, 4, A, 4, B, 4, C, 0);
    expect(&e, EI, "lda < 0", 4, 4, 4, A, -4, B, 4, C, 4);
    expect(&e, EI, "C == A", 4, 4, 4, A, 4, B, 4, A, 4);
    expect(&e, EI, "C overlaps A", 4, 4, 4, A, 4, B, 4, A + 5, 4);
    expect(&e, EI, "C's first = A's last", 4, 4, 4, A, 4, B, 4, A + 15, 4);
    expect(&e, EI, "C == B", 4, 4, 4, A, 4, B, 4, B, 4);
    expect(&e, EI, "C's last = B's first", 4, 4, 4, A, 4, B, 4, B - 15, 4);
    /* zero sizes are no-ops: OK, nothing written; empty operands may be NULL */
    expect(&e, KL_OK, "m = 0", 0, 4, 4, A, 4, B, 4, C, 4);
    expect(&e, KL_OK, "n = 0", 4, 0, 4, A, 4, B, 4, C, 4);
    expect(&e, KL_OK, "m = n = k = 0, all NULL", 0, 0, 0, NULL, 1, NULL, 1, NULL, 1);
    expect(&e, KL_OK, "m = 0, A and C NULL", 0, 4, 4, NULL, 4, B, 4, NULL, 4);
    tu_mat_free(&e.X);
}

static void group_bad_input(const kl_variant *v) {
    tu_group g;
    tu_begin(&g, v, "bad_input", 0);
    bad_input(&g, v->name);
    tu_end(&g);
}

/* Names that are no variant: ENOTFOUND for unknown, EINVAL for NULL; nothing written. */
static void group_names(void) {
    tu_group g;
    tu_begin_op(&g, "matmul", "names");
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {9, 9, 9, 9};
    kl_status s = kl_matmul_variant("no-such-variant", 2, 2, 2, 1, A, 2, B, 2, 0, C, 2);
    tu_check(&g, s == KL_ENOTFOUND && C[0] == 9 && C[3] == 9, "unknown name: status=%s", kl_status_str(s));
    s = kl_matmul_variant(NULL, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2);
    tu_check(&g, s == KL_EINVAL && C[0] == 9 && C[3] == 9, "NULL name: status=%s", kl_status_str(s));
    s = kl_matmul_run(NULL, 2, 2, 2, 1, A, 2, B, 2, 0, C, 2);
    tu_check(&g, s == KL_EINVAL, "kl_matmul_run(NULL): status=%s", kl_status_str(s));
    tu_end(&g);
}

int main(void) {
    tu_seed(0x6d61746d756cu);
    group_names();
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_MATMUL || !tu_available_or_skip(v)) continue;
        group_bad_input(v);
        int threads[64];
        size_t nt = tu_thread_counts(v, threads, 64);
        for (size_t ti = 0; ti < nt; ti++) {
            kl_set_num_threads(threads[ti]);
            group_shapes(v, threads[ti]);
            group_blocks(v, threads[ti]);
            group_ld_offset(v, threads[ti]);
            group_alpha_beta(v, threads[ti]);
            group_nan(v, threads[ti]);
            group_fuzz(v, threads[ti]);
        }
        kl_set_num_threads(0);
    }
    return tu_exit_code();
}
