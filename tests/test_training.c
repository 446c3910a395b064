/* The training ops: every variant of matmul_t, relu_backward, layernorm_backward,
 * bias_backward, softmax_xent and sgd_momentum, on every thread count, against the float64
 * references (kernels/reference) over awkward shapes, with canaries around every output;
 * their argument checks, zero sizes and NaN rules; and, for each backward op, a
 * finite-difference gradient check: the variant's gradient of L = sum(R * f(x)) (R random)
 * against (L(x + h) - L(x - h)) / 2h evaluated by the float64 forward reference. */
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *floats(ptrdiff_t n, float lo, float hi) {
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!p) exit(2);
    for (ptrdiff_t i = 0; i < n; i++) p[i] = tu_uniform(lo, hi);
    return p;
}

static double *doubles(ptrdiff_t n) {
    double *p = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
    if (!p) exit(2);
    return p;
}

/* Runs body for every available variant of op and every thread count it should see. */
#define FOR_VARIANTS(which_op, v, t)                                                              \
    for (size_t vi_ = 0; vi_ < kl_variant_count(); vi_++)                                   \
        for (const kl_variant *v = kl_variant_at(vi_); v; v = NULL)                         \
            if (v->op == (which_op) && tu_available_or_skip(v))                                  \
                for (int tl_[8], tn_ = (int)tu_thread_counts(v, tl_, 8), ti_ = 0; ti_ < tn_; ti_++) \
                    for (int t = tl_[ti_], once_ = (kl_set_num_threads(t), 1); once_; once_ = 0)

static const ptrdiff_t small_sizes[] = {1, 2, 3, 7, 8, 9, 16, 17, 31, 33, 64};

/* ---- matmul_t --------------------------------------------------------------------------- */

static void matmul_t_case(tu_group *g, const kl_variant *v, int ta, int tb, ptrdiff_t m,
                          ptrdiff_t n, ptrdiff_t k, float alpha, float beta) {
    ptrdiff_t ar = ta ? k : m, ac = ta ? m : k, br = tb ? n : k, bc = tb ? k : n;
    tu_mat A, B, C;
    tu_mat_alloc(&A, ar, ac, ac + 3, 1);
    tu_mat_alloc(&B, br, bc, bc + 1, 2);
    tu_mat_alloc(&C, m, n, n + 5, 3);
    tu_fill_uniform(&A, -1, 1);
    tu_fill_uniform(&B, -1, 1);
    tu_fill_uniform(&C, -1, 1);
    float *C0 = tu_mat_snapshot(&C);
    kl_status s = kl_matmul_t_run(v, ta, tb, m, n, k, alpha, A.p, A.ld, B.p, B.ld, beta, C.p, C.ld);
    ptrdiff_t where;
    double worst = s == KL_OK ? kl_check_matmul_t(ta, tb, m, n, k, alpha, A.p, A.ld, B.p, B.ld, beta,
                                                  C0 + (C.p - C.block), C.p, C.ld, &where)
                              : INFINITY;
    tu_check(g, s == KL_OK && worst <= 1.0 && tu_mat_canary_broken(&C) < 0,
             "ta=%d tb=%d %tdx%tdx%td alpha=%g beta=%g: %s, error %.3g of tolerance",
             ta, tb, m, n, k, alpha, beta, kl_status_str(s), worst);
    free(C0);
    tu_mat_free(&A), tu_mat_free(&B), tu_mat_free(&C);
}

/* L = sum(R * (A.B)): dL/dA = R.Bt = matmul_t(0, 1), dL/dB = At.R = matmul_t(1, 0). */
static void matmul_t_gradcheck(tu_group *g, const kl_variant *v, ptrdiff_t m, ptrdiff_t n,
                               ptrdiff_t k) {
    float *A = floats(m * k, -1, 1), *B = floats(k * n, -1, 1), *R = floats(m * n, -1, 1);
    float *dA = floats(m * k, 0, 0), *dB = floats(k * n, 0, 0);
    double *out = doubles(m * n);
    kl_status s1 = kl_matmul_t_run(v, 0, 1, m, k, n, 1.0f, R, n, B, n, 0.0f, dA, k);
    kl_status s2 = kl_matmul_t_run(v, 1, 0, k, n, m, 1.0f, A, k, R, n, 0.0f, dB, n);
    for (int which = 0; which < 2; which++)
        for (int probe = 0; probe < 6; probe++) {
            float *X = which ? B : A;
            ptrdiff_t i = (ptrdiff_t)(tu_rand_u64() % (uint64_t)(which ? k * n : m * k));
            float x0 = X[i], h = 1e-2f;
            double L[2];
            for (int side = 0; side < 2; side++) {
                X[i] = side ? x0 - h : x0 + h;
                kl_ref_matmul(m, n, k, 1.0, A, k, B, n, 0.0, NULL, n, out);
                L[side] = 0.0;
                for (ptrdiff_t e = 0; e < m * n; e++) L[side] += R[e] * out[e];
            }
            double fd = (L[0] - L[1]) / ((double)(x0 + h) - (double)(x0 - h));
            X[i] = x0;
            double grad = which ? dB[i] : dA[i];
            double err = fabs(fd - grad);
            tu_check(g, s1 == KL_OK && s2 == KL_OK && err <= 1e-4 * (1.0 + fabs(grad)),
                     "%tdx%tdx%td d%c[%td]: finite difference %.6g, backward %.6g", m, n, k,
                     which ? 'B' : 'A', i, fd, grad);
        }
    free(A), free(B), free(R), free(dA), free(dB), free(out);
}

static void test_matmul_t(void) {
    FOR_VARIANTS(KL_OP_MATMUL_T, v, t) {
        tu_group g;
        tu_begin(&g, v, "shapes", t);
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                for (size_t a = 0; a < 6; a++)
                    for (size_t b = 0; b < 6; b++) {
                        ptrdiff_t m = small_sizes[a * 2], n = small_sizes[b * 2], k = small_sizes[(a + b) % 11];
                        matmul_t_case(&g, v, ta, tb, m, n, k, 1.0f, 0.0f);
                    }
                matmul_t_case(&g, v, ta, tb, 0, 5, 3, 1.0f, 0.0f);
                matmul_t_case(&g, v, ta, tb, 5, 3, 0, 1.0f, 0.5f);
                matmul_t_case(&g, v, ta, tb, 33, 17, 9, -0.5f, 2.0f);
                matmul_t_case(&g, v, ta, tb, 128, 256, 100, 1.0f, 1.0f); /* past the team threshold */
            }
        ptrdiff_t shapes[256][3];
        size_t ns = tu_gemm_block_shapes(v, shapes, 256);
        if (ns > 256) ns = 256;
        for (size_t i = 0; i < ns; i += 3) /* every third: the naive rung is slow */
            matmul_t_case(&g, v, (int)(i & 1), (int)((i >> 1) & 1), shapes[i][0], shapes[i][1],
                          shapes[i][2], 1.0f, 0.0f);
        tu_end(&g);
        tu_begin(&g, v, "gradient check", t);
        matmul_t_gradcheck(&g, v, 7, 5, 9);
        matmul_t_gradcheck(&g, v, 70, 33, 65);
        tu_end(&g);
        tu_begin(&g, v, "rules", t);
        /* beta == 0: C is not read, a NaN there does not propagate */
        float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1}, C[4] = {NAN, NAN, NAN, NAN};
        kl_status s = kl_matmul_t_run(v, 1, 1, 2, 2, 3, 1.0f, A, 2, B, 3, 0.0f, C, 2);
        tu_check(&g, s == KL_OK && !isnan(C[0]) && !isnan(C[3]), "beta=0 read C (%s)", kl_status_str(s));
        /* At(2x3 stored 3x2) . Bt: C[0][0] = sum_p A[p][0] B[0][p] = 1*1 + 3*0 + 5*0 = 1 */
        /* op(A) = [[1 3 5] [2 4 6]], op(B) = [[1 1] [0 1] [0 1]]: C = [[1 9] [2 12]] */
        tu_check(&g, C[0] == 1.0f && C[1] == 9.0f && C[2] == 2.0f && C[3] == 12.0f,
                 "At.Bt = %g %g %g %g, want 1 9 2 12", C[0], C[1], C[2], C[3]);
        float snap[4];
        memcpy(snap, C, sizeof C);
        tu_check(&g, kl_matmul_t_run(v, 1, 0, 2, 2, 3, 1.0f, A, 1, B, 2, 0.0f, C, 2) == KL_EINVAL,
                 "lda < m with A transposed accepted");
        tu_check(&g, kl_matmul_t_run(v, 0, 1, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2) == KL_EINVAL,
                 "ldb < k with B transposed accepted");
        tu_check(&g, kl_matmul_t_run(v, 0, 0, -1, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2) == KL_EINVAL,
                 "m < 0 accepted");
        tu_check(&g, kl_matmul_t_run(v, 0, 0, 2, 2, 3, 1.0f, A, 3, NULL, 2, 0.0f, C, 2) == KL_EINVAL,
                 "B NULL accepted");
        tu_check(&g, kl_matmul_t_run(v, 0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, A + 1, 2) == KL_EINVAL,
                 "C overlapping A accepted");
        tu_check(&g, memcmp(snap, C, sizeof C) == 0, "a rejected call wrote C");
        tu_check(&g, kl_matmul_t_run(kl_variant_find(KL_OP_MATMUL, "naive"), 0, 0, 1, 1, 1, 1.0f, A,
                                     1, B, 1, 0.0f, C, 1) == KL_EINVAL, "a matmul row accepted");
        tu_end(&g);
    }
}

/* ---- relu_backward ---------------------------------------------------------------------- */

static void test_relu_backward(void) {
    const ptrdiff_t sizes[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 70001};
    FOR_VARIANTS(KL_OP_RELU_BACKWARD, v, t) {
        tu_group g;
        tu_begin(&g, v, "sizes", t);
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            ptrdiff_t n = sizes[si];
            for (int mode = 0; mode < 3; mode++) { /* out of place, dx == dy, dx == y */
                tu_mat y, dy, dx;
                tu_mat_alloc(&y, 1, n, n > 0 ? n : 1, 1);
                tu_mat_alloc(&dy, 1, n, n > 0 ? n : 1, 2);
                tu_mat_alloc(&dx, 1, n, n > 0 ? n : 1, 3);
                tu_fill_uniform(&y, -1, 1);
                tu_fill_uniform(&dy, -1, 1);
                if (n > 4) y.p[1] = NAN, dy.p[2] = NAN, y.p[2] = -1.0f, y.p[3] = 0.0f, dy.p[4] = NAN, y.p[4] = 1.0f;
                float *y0 = malloc(sizeof(float) * (size_t)(n + 1)), *dy0 = malloc(sizeof(float) * (size_t)(n + 1));
                memcpy(y0, y.p, sizeof(float) * (size_t)n), memcpy(dy0, dy.p, sizeof(float) * (size_t)n);
                float *out = mode == 0 ? dx.p : mode == 1 ? dy.p : y.p;
                kl_status s = kl_relu_backward_run(v, n, y.p, dy.p, out);
                ptrdiff_t where;
                double worst = kl_check_relu_backward(n, y0, dy0, out, &where);
                tu_check(&g, s == KL_OK && worst <= 1.0 && tu_mat_canary_broken(&dx) < 0 &&
                                 tu_mat_canary_broken(&y) < 0 && tu_mat_canary_broken(&dy) < 0,
                         "n=%td mode=%d: %s, element %td wrong", n, mode, kl_status_str(s), where);
                free(y0), free(dy0);
                tu_mat_free(&y), tu_mat_free(&dy), tu_mat_free(&dx);
            }
        }
        tu_end(&g);
        tu_begin(&g, v, "gradient check", t);
        { /* L = sum(R relu(x)), x kept away from the kink */
            ptrdiff_t n = 257;
            float *x = floats(n, -1, 1), *R = floats(n, -1, 1), *dx = floats(n, 0, 0), *y = floats(n, 0, 0);
            for (ptrdiff_t i = 0; i < n; i++) x[i] += x[i] >= 0 ? 0.1f : -0.1f;
            kl_relu_variant("naive", n, x, y);
            kl_status s = kl_relu_backward_run(v, n, y, R, dx);
            for (ptrdiff_t i = 0; i < n; i += 16) {
                double lp = fmax(x[i] + 0.01f, 0) * R[i], lm = fmax(x[i] - 0.01f, 0) * R[i];
                double fd = (lp - lm) / ((double)(x[i] + 0.01f) - (double)(x[i] - 0.01f));
                tu_check(&g, s == KL_OK && fabs(fd - dx[i]) <= 1e-5, "x[%td]=%g: fd %g backward %g", i, x[i], fd, dx[i]);
            }
            free(x), free(R), free(dx), free(y);
        }
        tu_end(&g);
        tu_begin(&g, v, "arguments", t);
        float a[8] = {1, -1, 2, -2, 3, -3, 4, -4}, b[8] = {1, 1, 1, 1, 1, 1, 1, 1}, snap[8];
        memcpy(snap, b, sizeof b);
        tu_check(&g, kl_relu_backward_run(v, -1, a, b, b) == KL_EINVAL, "n < 0 accepted");
        tu_check(&g, kl_relu_backward_run(v, 4, NULL, b, b) == KL_EINVAL, "y NULL accepted");
        tu_check(&g, kl_relu_backward_run(v, 4, a, b + 1, b) == KL_EINVAL, "dx partly overlapping dy accepted");
        tu_check(&g, kl_relu_backward_run(v, 0, NULL, NULL, NULL) == KL_OK, "n = 0 with NULLs refused");
        tu_check(&g, memcmp(snap, b, sizeof b) == 0, "a rejected call wrote dx");
        tu_end(&g);
    }
}

/* ---- layernorm_backward ------------------------------------------------------------------- */

typedef struct ln_case {
    ptrdiff_t rows, cols;
    float *x, *gamma, *beta, *mean, *rstd, *y, *dy;
} ln_case;

static void ln_make(ln_case *c, ptrdiff_t rows, ptrdiff_t cols, float shift) {
    c->rows = rows, c->cols = cols;
    c->x = floats(rows * cols, shift - 2, shift + 2);
    c->gamma = floats(cols, 0.5f, 1.5f);
    c->beta = floats(cols, -0.5f, 0.5f);
    c->dy = floats(rows * cols, -1, 1);
    c->mean = floats(rows, 0, 0), c->rstd = floats(rows, 0, 0), c->y = floats(rows * cols, 0, 0);
    kl_layernorm_variant("naive", rows, cols, c->x, c->gamma, c->beta, 1e-5f, c->y, c->mean, c->rstd);
}

static void ln_free(ln_case *c) {
    free(c->x), free(c->gamma), free(c->beta), free(c->dy), free(c->mean), free(c->rstd), free(c->y);
}

static void ln_shape(tu_group *g, const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols, int mode) {
    ln_case c;
    ln_make(&c, rows, cols, mode == 2 ? 100.0f : 0.0f);
    tu_mat dx, dg, db;
    tu_mat_alloc(&dx, rows, cols, cols, 1);
    tu_mat_alloc(&dg, 1, cols, cols, 2);
    tu_mat_alloc(&db, 1, cols, cols, 3);
    float *out = dx.p;
    if (mode == 1) { /* in place: dx == dy */
        memcpy(dx.p, c.dy, sizeof(float) * (size_t)(rows * cols));
        out = dx.p;
    }
    kl_status s = kl_layernorm_backward_run(v, rows, cols, c.x, c.gamma, c.mean, c.rstd,
                                            mode == 1 ? dx.p : c.dy, out, mode == 3 ? NULL : dg.p,
                                            mode == 3 ? NULL : db.p);
    ptrdiff_t where;
    double worst = kl_check_layernorm_backward(rows, cols, c.x, c.gamma, c.mean, c.rstd, c.dy, out,
                                               mode == 3 ? NULL : dg.p, mode == 3 ? NULL : db.p, &where);
    tu_check(g, s == KL_OK && worst <= 1.0 && tu_mat_canary_broken(&dx) < 0 &&
                    tu_mat_canary_broken(&dg) < 0 && tu_mat_canary_broken(&db) < 0,
             "%tdx%td mode=%d: %s, error %.3g of tolerance at %td", rows, cols, mode,
             kl_status_str(s), worst, where);
    tu_mat_free(&dx), tu_mat_free(&dg), tu_mat_free(&db);
    ln_free(&c);
}

/* L = sum(R * layernorm(x)): dx, dgamma, dbeta from the variant with dy = R, against central
 * differences of L computed by the float64 reference forward. */
static void ln_gradcheck(tu_group *g, const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols) {
    ln_case c;
    ln_make(&c, rows, cols, 0.5f);
    float *dx = floats(rows * cols, 0, 0), *dg = floats(cols, 0, 0), *db = floats(cols, 0, 0);
    double *y = doubles(rows * cols), *mu = doubles(rows), *rs = doubles(rows);
    kl_status s = kl_layernorm_backward_run(v, rows, cols, c.x, c.gamma, c.mean, c.rstd, c.dy, dx, dg, db);
    for (int which = 0; which < 3; which++)
        for (int probe = 0; probe < 5; probe++) {
            float *X = which == 0 ? c.x : which == 1 ? c.gamma : c.beta;
            ptrdiff_t i = (ptrdiff_t)(tu_rand_u64() % (uint64_t)(which ? cols : rows * cols));
            float x0 = X[i], h = 1e-3f;
            double L[2];
            for (int side = 0; side < 2; side++) {
                X[i] = side ? x0 - h : x0 + h;
                kl_ref_layernorm(rows, cols, c.x, c.gamma, c.beta, 1e-5, y, mu, rs);
                L[side] = 0.0;
                for (ptrdiff_t e = 0; e < rows * cols; e++) L[side] += c.dy[e] * y[e];
            }
            X[i] = x0;
            double fd = (L[0] - L[1]) / ((double)(x0 + h) - (double)(x0 - h));
            double got = which == 0 ? dx[i] : which == 1 ? dg[i] : db[i];
            tu_check(g, s == KL_OK && fabs(fd - got) <= 2e-3 * (1.0 + fabs(fd)),
                     "%tdx%td d%s[%td]: finite difference %.6g, backward %.6g", rows, cols,
                     which == 0 ? "x" : which == 1 ? "gamma" : "beta", i, fd, got);
        }
    free(dx), free(dg), free(db), free(y), free(mu), free(rs);
    ln_free(&c);
}

static void test_layernorm_backward(void) {
    const ptrdiff_t rows[] = {1, 2, 3, 7, 64, 129}, cols[] = {1, 2, 7, 8, 9, 16, 17, 100, 256};
    FOR_VARIANTS(KL_OP_LAYERNORM_BACKWARD, v, t) {
        tu_group g;
        tu_begin(&g, v, "shapes", t);
        for (size_t r = 0; r < 6; r++)
            for (size_t c = 0; c < 9; c++) ln_shape(&g, v, rows[r], cols[c], (int)((r + c) % 4));
        ln_shape(&g, v, 130, 257, 0); /* past the team threshold */
        ln_shape(&g, v, 130, 257, 1);
        ln_shape(&g, v, 130, 257, 3);
        tu_end(&g);
        tu_begin(&g, v, "gradient check", t);
        ln_gradcheck(&g, v, 3, 17);
        ln_gradcheck(&g, v, 130, 257);
        tu_end(&g);
        tu_begin(&g, v, "rules", t);
        { /* a NaN in x[r][c]: row r of dx NaN, other rows finite, dgamma[c] NaN, dbeta finite */
            ln_case c;
            ln_make(&c, 130, 257, 0.0f);
            c.x[5 * 257 + 3] = NAN;
            float *dx = floats(130 * 257, 0, 0), *dg = floats(257, 0, 0), *db = floats(257, 0, 0);
            kl_status s = kl_layernorm_backward_run(v, 130, 257, c.x, c.gamma, c.mean, c.rstd, c.dy, dx, dg, db);
            int row_nan = 1, others = 1;
            for (ptrdiff_t e = 0; e < 130 * 257; e++) {
                if (e / 257 == 5) row_nan &= isnan(dx[e]) != 0;
                else others &= isfinite(dx[e]) != 0;
            }
            tu_check(&g, s == KL_OK && row_nan && others && isnan(dg[3]) && isfinite(dg[4]) && isfinite(db[3]),
                     "NaN in x[5][3]: row NaN %d, others finite %d, dgamma[3] %g, dbeta[3] %g", row_nan, others, dg[3], db[3]);
            /* determinism: the same call again gives the same bits */
            c.x[5 * 257 + 3] = 0.5f;
            float *dx2 = floats(130 * 257, 0, 0), *dg2 = floats(257, 0, 0), *db2 = floats(257, 0, 0);
            kl_layernorm_backward_run(v, 130, 257, c.x, c.gamma, c.mean, c.rstd, c.dy, dx, dg, db);
            kl_layernorm_backward_run(v, 130, 257, c.x, c.gamma, c.mean, c.rstd, c.dy, dx2, dg2, db2);
            tu_check(&g, !memcmp(dx, dx2, 130 * 257 * 4) && !memcmp(dg, dg2, 257 * 4) && !memcmp(db, db2, 257 * 4),
                     "two identical calls differ");
            free(dx), free(dg), free(db), free(dx2), free(dg2), free(db2);
            ln_free(&c);
        }
        float x[6] = {1, 2, 3, 4, 5, 6}, gm[3] = {1, 1, 1}, st[2] = {2, 1}, dy[6] = {1, 1, 1, 1, 1, 1};
        float dx[6] = {9, 9, 9, 9, 9, 9}, dg[3] = {9, 9, 9}, db[3] = {7, 7, 7};
        tu_check(&g, kl_layernorm_backward_run(v, 0, 3, NULL, NULL, NULL, NULL, NULL, NULL, dg, db) == KL_OK &&
                         dg[0] == 0 && db[2] == 0, "rows = 0 does not zero dgamma, dbeta");
        float snap[6];
        memcpy(snap, dx, sizeof dx);
        tu_check(&g, kl_layernorm_backward_run(v, 2, 3, x, gm, st, st, dy, x, NULL, NULL) == KL_EINVAL,
                 "dx == x accepted");
        tu_check(&g, kl_layernorm_backward_run(v, 2, 3, x, NULL, st, st, dy, dx, NULL, NULL) == KL_EINVAL,
                 "gamma NULL accepted");
        tu_check(&g, kl_layernorm_backward_run(v, 2, 3, x, gm, st, st, dy, dx, dx + 1, NULL) == KL_EINVAL,
                 "dgamma inside dx accepted");
        tu_check(&g, kl_layernorm_backward_run(v, -2, 3, x, gm, st, st, dy, dx, NULL, NULL) == KL_EINVAL,
                 "rows < 0 accepted");
        tu_check(&g, memcmp(snap, dx, sizeof dx) == 0, "a rejected call wrote dx");
        tu_end(&g);
    }
}

/* ---- bias_backward ------------------------------------------------------------------------ */

static void test_bias_backward(void) {
    const ptrdiff_t rows[] = {0, 1, 2, 3, 17, 128, 300}, cols[] = {1, 2, 7, 8, 9, 10, 63, 64, 65, 130, 256};
    FOR_VARIANTS(KL_OP_BIAS_BACKWARD, v, t) {
        tu_group g;
        tu_begin(&g, v, "shapes", t);
        for (size_t r = 0; r < 7; r++)
            for (size_t c = 0; c < 11; c++) {
                tu_mat dy, db;
                tu_mat_alloc(&dy, rows[r], cols[c], cols[c] + (ptrdiff_t)(r % 3), 1);
                tu_mat_alloc(&db, 1, cols[c], cols[c], 2);
                tu_fill_uniform(&dy, -1, 1);
                kl_status s = kl_bias_backward_run(v, rows[r], cols[c], dy.p, dy.ld, db.p);
                ptrdiff_t where;
                double worst = kl_check_bias_backward(rows[r], cols[c], dy.p, dy.ld, db.p, &where);
                tu_check(&g, s == KL_OK && worst <= 1.0 && tu_mat_canary_broken(&db) < 0,
                         "%tdx%td: %s, error %.3g at %td", rows[r], cols[c], kl_status_str(s), worst, where);
                tu_mat_free(&dy), tu_mat_free(&db);
            }
        tu_end(&g);
        tu_begin(&g, v, "gradient check", t);
        { /* L = sum(R * (Y + 1 b^T)): dL/db = column sums of R; L is linear in b */
            ptrdiff_t r = 33, c = 70;
            float *R = floats(r * c, -1, 1), *Y = floats(r * c, -1, 1), *b = floats(c, -1, 1), *db = floats(c, 0, 0);
            kl_status s = kl_bias_backward_run(v, r, c, R, c, db);
            for (ptrdiff_t j = 0; j < c; j += 7) {
                double L[2];
                float b0 = b[j];
                for (int side = 0; side < 2; side++) {
                    b[j] = side ? b0 - 0.01f : b0 + 0.01f;
                    L[side] = 0.0;
                    for (ptrdiff_t e = 0; e < r * c; e++) L[side] += (double)R[e] * ((double)Y[e] + b[e % c]);
                }
                b[j] = b0;
                double fd = (L[0] - L[1]) / ((double)(b0 + 0.01f) - (double)(b0 - 0.01f));
                tu_check(&g, s == KL_OK && fabs(fd - db[j]) <= 1e-4 * (1 + fabs(fd)), "db[%td]: fd %g, backward %g", j, fd, db[j]);
            }
            free(R), free(Y), free(b), free(db);
        }
        tu_end(&g);
        tu_begin(&g, v, "arguments", t);
        float dy[6] = {1, 2, NAN, 4, 5, 6}, db[3] = {9, 9, 9};
        kl_status s = kl_bias_backward_run(v, 2, 3, dy, 3, db);
        tu_check(&g, s == KL_OK && db[0] == 5 && isnan(db[2]) && db[1] == 7, "NaN column: db = %g %g %g", db[0], db[1], db[2]);
        tu_check(&g, kl_bias_backward_run(v, 2, 3, dy, 2, db) == KL_EINVAL, "ldy < cols accepted");
        tu_check(&g, kl_bias_backward_run(v, 2, 3, dy, 3, dy + 1) == KL_EINVAL, "db inside dy accepted");
        tu_check(&g, kl_bias_backward_run(v, 2, 3, NULL, 3, db) == KL_EINVAL, "dy NULL accepted");
        tu_end(&g);
    }
}

/* ---- softmax_xent ------------------------------------------------------------------------- */

static int *labels_for(ptrdiff_t rows, ptrdiff_t cols) {
    int *l = malloc(sizeof(int) * (size_t)(rows > 0 ? rows : 1));
    if (!l) exit(2);
    for (ptrdiff_t r = 0; r < rows; r++) l[r] = (int)(tu_rand_u64() % (uint64_t)cols);
    return l;
}

static void test_softmax_xent(void) {
    const ptrdiff_t rows[] = {0, 1, 2, 7, 128, 2000}, cols[] = {1, 2, 7, 8, 9, 10, 16, 17, 100};
    FOR_VARIANTS(KL_OP_SOFTMAX_XENT, v, t) {
        tu_group g;
        tu_begin(&g, v, "shapes", t);
        for (size_t r = 0; r < 6; r++)
            for (size_t c = 0; c < 9; c++)
                for (int shift = 0; shift < 2; shift++) {
                    ptrdiff_t R = rows[r], C = cols[c];
                    float *z = floats(R * C, -5, 5);
                    for (ptrdiff_t e = 0; shift && e < R * C; e++) z[e] += 80.0f; /* exp would overflow unshifted */
                    int *lab = labels_for(R, C);
                    tu_mat dz;
                    tu_mat_alloc(&dz, R, C, C, 1);
                    float loss = -1.0f, loss_only = -1.0f;
                    kl_status s = kl_softmax_xent_run(v, R, C, z, lab, &loss, R > 0 ? dz.p : NULL);
                    kl_status s2 = kl_softmax_xent_run(v, R, C, z, lab, &loss_only, NULL);
                    ptrdiff_t where;
                    double worst = kl_check_softmax_xent(R, C, z, lab, loss, R > 0 ? dz.p : NULL, &where);
                    tu_check(&g, s == KL_OK && s2 == KL_OK && worst <= 1.0 && loss_only == loss &&
                                     tu_mat_canary_broken(&dz) < 0,
                             "%tdx%td shift=%d: %s, error %.3g at %td (loss %g)", R, C, shift,
                             kl_status_str(s), worst, where, loss);
                    tu_mat_free(&dz);
                    free(z), free(lab);
                }
        tu_end(&g);
        tu_begin(&g, v, "gradient check", t);
        for (int sz = 0; sz < 2; sz++) {
            ptrdiff_t R = sz ? 2000 : 5, C = 10;
            float *z = floats(R * C, -3, 3), *dz = floats(R * C, 0, 0), loss;
            int *lab = labels_for(R, C);
            kl_status s = kl_softmax_xent_run(v, R, C, z, lab, &loss, dz);
            for (int probe = 0; probe < 8; probe++) {
                ptrdiff_t i = (ptrdiff_t)(tu_rand_u64() % (uint64_t)(R * C));
                float z0 = z[i], h = 1e-2f;
                z[i] = z0 + h;
                double lp = kl_ref_softmax_xent(R, C, z, lab, NULL);
                z[i] = z0 - h;
                double lm = kl_ref_softmax_xent(R, C, z, lab, NULL);
                z[i] = z0;
                double fd = (lp - lm) / ((double)(z0 + h) - (double)(z0 - h));
                tu_check(&g, s == KL_OK && fabs(fd - dz[i]) <= 1e-4 / (double)R + 1e-3 * fabs(fd),
                         "%tdx%td dz[%td]: finite difference %.6g, backward %.6g", R, C, i, fd, dz[i]);
            }
            free(z), free(dz), free(lab);
        }
        tu_end(&g);
        tu_begin(&g, v, "rules", t);
        {
            ptrdiff_t R = 2000, C = 10;
            float *z = floats(R * C, -3, 3), *dz = floats(R * C, 0, 0), *dz2 = floats(R * C, 0, 0), loss, loss2;
            int *lab = labels_for(R, C);
            z[3 * C + 4] = NAN;
            z[9 * C + 1] = INFINITY;
            kl_status s = kl_softmax_xent_run(v, R, C, z, lab, &loss, dz);
            int ok = isnan(loss);
            for (ptrdiff_t e = 0; e < R * C; e++)
                ok &= (e / C == 3 || e / C == 9) ? isnan(dz[e]) != 0 : isfinite(dz[e]) != 0;
            tu_check(&g, s == KL_OK && ok, "NaN in row 3, +Inf in row 9: not exactly those rows NaN (loss %g)", loss);
            z[3 * C + 4] = 0.5f, z[9 * C + 1] = -0.5f;
            kl_softmax_xent_run(v, R, C, z, lab, &loss, dz);
            kl_softmax_xent_run(v, R, C, z, lab, &loss2, dz2);
            tu_check(&g, loss == loss2 && !memcmp(dz, dz2, sizeof(float) * (size_t)(R * C)), "two identical calls differ");
            memcpy(dz2, dz, sizeof(float) * (size_t)(R * C));
            lab[R - 1] = (int)C;
            loss2 = 123.0f;
            tu_check(&g, kl_softmax_xent_run(v, R, C, z, lab, &loss2, dz) == KL_EINVAL && loss2 == 123.0f &&
                             !memcmp(dz, dz2, sizeof(float) * (size_t)(R * C)),
                     "a label == cols accepted, or the rejected call wrote");
            lab[R - 1] = -1;
            tu_check(&g, kl_softmax_xent_run(v, R, C, z, lab, &loss2, dz) == KL_EINVAL, "a label < 0 accepted");
            lab[R - 1] = 0;
            tu_check(&g, kl_softmax_xent_run(v, R, C, z, lab, NULL, dz) == KL_EINVAL, "loss NULL accepted");
            tu_check(&g, kl_softmax_xent_run(v, R, C, z, lab, &loss2, z + 1) == KL_EINVAL, "dlogits overlapping logits accepted");
            tu_check(&g, kl_softmax_xent_run(v, 3, 0, z, lab, &loss2, NULL) == KL_EINVAL, "cols = 0 with rows accepted");
            tu_check(&g, kl_softmax_xent_run(v, 0, 10, NULL, NULL, &loss2, NULL) == KL_OK && loss2 == 0.0f, "rows = 0 is not loss 0");
            free(z), free(dz), free(dz2), free(lab);
        }
        tu_end(&g);
    }
}

/* ---- sgd_momentum ------------------------------------------------------------------------- */

static void test_sgd_momentum(void) {
    const ptrdiff_t sizes[] = {0, 1, 7, 8, 9, 17, 1000, 235914};
    FOR_VARIANTS(KL_OP_SGD_MOMENTUM, v, t) {
        tu_group g;
        tu_begin(&g, v, "sizes", t);
        for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
            ptrdiff_t n = sizes[si];
            tu_mat w, gr, vb;
            tu_mat_alloc(&w, 1, n, n > 0 ? n : 1, 1);
            tu_mat_alloc(&gr, 1, n, n > 0 ? n : 1, 2);
            tu_mat_alloc(&vb, 1, n, n > 0 ? n : 1, 3);
            tu_fill_uniform(&w, -1, 1), tu_fill_uniform(&gr, -1, 1), tu_fill_uniform(&vb, -1, 1);
            if (n > 3) gr.p[2] = NAN;
            float *w0 = malloc(sizeof(float) * (size_t)(n + 1)), *v0 = malloc(sizeof(float) * (size_t)(n + 1));
            memcpy(w0, w.p, sizeof(float) * (size_t)n), memcpy(v0, vb.p, sizeof(float) * (size_t)n);
            kl_status s = kl_sgd_momentum_run(v, n, 0.05f, 0.9f, 5e-4f, w.p, gr.p, vb.p);
            ptrdiff_t where;
            double worst = kl_check_sgd_momentum(n, 0.05f, 0.9f, 5e-4f, w0, gr.p, v0, w.p, vb.p, &where);
            int nan_ok = n <= 3 || (isnan(w.p[2]) && isnan(vb.p[2]) && isfinite(w.p[1]) && isfinite(w.p[3]));
            tu_check(&g, s == KL_OK && worst <= 1.0 && nan_ok && tu_mat_canary_broken(&w) < 0 &&
                             tu_mat_canary_broken(&vb) < 0,
                     "n=%td: %s, error %.3g at %td, NaN kept in place %d", n, kl_status_str(s), worst, where, nan_ok);
            free(w0), free(v0);
            tu_mat_free(&w), tu_mat_free(&gr), tu_mat_free(&vb);
        }
        tu_end(&g);
        tu_begin(&g, v, "arguments", t);
        float w[8] = {1, 2, 3, 4, 5, 6, 7, 8}, gr[8] = {0}, vb[8] = {0}, snap[8];
        memcpy(snap, w, sizeof w);
        tu_check(&g, kl_sgd_momentum_run(v, 8, NAN, 0.9f, 0, w, gr, vb) == KL_EINVAL, "lr NaN accepted");
        tu_check(&g, kl_sgd_momentum_run(v, 8, 0.1f, INFINITY, 0, w, gr, vb) == KL_EINVAL, "momentum Inf accepted");
        tu_check(&g, kl_sgd_momentum_run(v, 4, 0.1f, 0.9f, 0, w, w + 2, vb) == KL_EINVAL, "g overlapping w accepted");
        tu_check(&g, kl_sgd_momentum_run(v, 8, 0.1f, 0.9f, 0, w, gr, NULL) == KL_EINVAL, "v NULL accepted");
        tu_check(&g, memcmp(snap, w, sizeof w) == 0, "a rejected call wrote w");
        tu_end(&g);
    }
}

int main(void) {
    tu_seed(15);
    test_matmul_t();
    test_relu_backward();
    test_layernorm_backward();
    test_bias_backward();
    test_softmax_xent();
    test_sgd_momentum();
    kl_set_num_threads(0);
    return tu_exit_code();
}
