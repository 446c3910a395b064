/* kl_workload: ONE call of one kernel, for Valgrind Massif to profile (scripts/profile).
 *
 *   kl_workload OP VARIANT D0 D1 D2 [--threads T]   run it once; exit 0 on KL_OK
 *   kl_workload OP VARIANT D0 D1 D2 [--threads T] --predict
 *                                                   print the predicted heap bytes as JSON, run nothing
 *   kl_workload --list                              print "op variant rung isa available" per line
 *   kl_workload --blis-info                         print BLIS's version and sub-configuration as JSON
 *
 * OP is matmul, relu, layernorm or linear_relu; VARIANT is a registry name or "blis". Sizes are
 * (m, n, k) for matmul and linear_relu, (n, 0, 0) for relu, (rows, cols, 0) for layernorm, as
 * in the registry.
 *
 * Heap the workload itself allocates, exactly (one malloc per array, float32, freed at exit):
 *   matmul     A[m][k], B[k][n], C[m][n]            4 (m k + k n + m n) bytes
 *   relu       x[n], y[n]                           8 n bytes
 *   layernorm  x, y [rows][cols]; gamma, beta [cols]; mean, rstd [rows]
 *                                                   4 (2 rows cols + 2 cols + 2 rows) bytes
 *   layernorm with blis: also ones[cols], which BLIS's level-1 composition needs: + 4 cols
 *   linear_relu A[m][k], B[k][n], bias[n], C[m][n] 4 (m k + k n + n + m n) bytes
 * Predicted peak = those bytes + the variant's scratch_bytes(D0, D1, D2, threads) from the
 * registry (0 when it has none). BLIS's own packing buffers have no formula here: for blis the
 * prediction is the arrays alone, and scripts/profile does not flag it.
 *
 * The calls are the benchmark's: matmul C = 1 A B + 0 C (bli_sgemm, row-major strides for
 * blis); relu out of place (blis: bli_scopyv, the same traffic: BLIS has no ReLU); layernorm
 * eps 1e-5 with mean and rstd written (blis: the level-1 composition of harness/bench_layernorm.cc);
 * linear_relu with a bias (blis: bli_sgemm, then a bias + ReLU pass over C).
 * Nothing is printed while the arrays are live, so stdio's buffer is not in the peak. */
#define _POSIX_C_SOURCE 200809L
#include <blis.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blis_arch.h"
#include "kernellab.h"

static const float kEps = 1e-5f;

static void usage(FILE *f) {
    fputs("usage: kl_workload OP VARIANT D0 D1 D2 [--threads T] [--predict]\n"
          "       kl_workload --list | --blis-info | --help\n"
          "Runs one call of a kernellab variant (or \"blis\") for Valgrind Massif.\n"
          "OP: matmul or linear_relu (D0..D2 = m n k), relu (n 0 0), layernorm (rows cols 0).\n"
          "--predict prints {\"io_bytes\", \"scratch_bytes\", \"predicted_bytes\"} and runs nothing.\n",
          f);
}

static int parse_op(const char *s, kl_op *op) {
    for (int i = 0; i < KL_OP_COUNT; i++)
        if (strcmp(s, kl_op_name((kl_op)i)) == 0) return *op = (kl_op)i, 1;
    return 0;
}

static int parse_size(const char *s, ptrdiff_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > (1LL << 40)) return 0;
    *out = (ptrdiff_t)v;
    return 1;
}

static int is_blis(const char *variant) {
    return strcmp(variant, "blis") == 0 || strcmp(variant, "blis_copyv") == 0 ||
           strcmp(variant, "blis_l1") == 0;
}

/* Bytes of the arrays the workload allocates (see the top of this file). */
static size_t io_floats(kl_op op, int blis, size_t d0, size_t d1, size_t d2) {
    switch (op) {
    case KL_OP_MATMUL: return d0 * d2 + d2 * d1 + d0 * d1;
    case KL_OP_RELU: return 2 * d0;
    case KL_OP_LINEAR_RELU: return d0 * d2 + d2 * d1 + d1 + d0 * d1;
    default: return 2 * d0 * d1 + 2 * d1 + 2 * d0 + (blis ? d1 : 0);
    }
}

static float *floats(size_t count, uint64_t seed, float lo, float hi) {
    float *p = malloc(count ? count * sizeof(float) : 1);
    for (size_t i = 0; p && i < count; i++) { /* xorshift64*, uniform in [lo, hi) */
        seed ^= seed >> 12, seed ^= seed << 25, seed ^= seed >> 27;
        float u = (float)((seed * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 24);
        p[i] = lo + (hi - lo) * u;
    }
    return p;
}

/* BLIS's level-1 LayerNorm, one row at a time (as harness/bench_layernorm.cc's baseline). */
static void blis_layernorm(dim_t rows, dim_t cols, float *x, const float *g, const float *b,
                           float *ones, float *y, float *mean, float *rstd) {
    for (dim_t r = 0; r < rows; r++) {
        float *xr = x + r * cols, *yr = y + r * cols, sum = 0, ss = 0;
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, cols, xr, 1, ones, 1, &sum);
        float mu = cols ? sum / (float)cols : 0, neg = -mu;
        bli_scopyv(BLIS_NO_CONJUGATE, cols, xr, 1, yr, 1);
        bli_saxpyv(BLIS_NO_CONJUGATE, cols, &neg, ones, 1, yr, 1);
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, cols, yr, 1, yr, 1, &ss);
        float rs = 1.0f / sqrtf((cols ? ss / (float)cols : 0) + kEps);
        bli_sscalv(BLIS_NO_CONJUGATE, cols, &rs, yr, 1);
        for (dim_t c = 0; c < cols; c++) yr[c] = yr[c] * g[c] + b[c];
        mean[r] = mu, rstd[r] = rs;
    }
}

static int list_variants(void) {
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        printf("%s %s %s %s %d\n", kl_op_name(v->op), v->name, v->rung, kl_isa_name(v->isa),
               kl_variant_available(v));
    }
    for (int op = 0; op < KL_OP_COUNT; op++)
        printf("%s blis blis %s 1\n", kl_op_name((kl_op)op), kl_isa_name(kl_cpu_isa()));
    return 0;
}

static int blis_info(void) {
    char how[160];
    kl_blis_prepare(how, sizeof how);
    printf("{\"version\": \"%s\", \"arch\": \"%s\", \"how\": \"%s\", \"openmp\": %s}\n",
           bli_info_get_version_str(), bli_arch_string(bli_arch_query_id()), how,
           bli_info_get_enable_openmp() ? "true" : "false");
    return 0;
}

int main(int argc, char **argv) {
    const char *pos[5];
    int npos = 0, threads = 1, predict = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return usage(stdout), 0;
        if (strcmp(argv[i], "--list") == 0) return list_variants();
        if (strcmp(argv[i], "--blis-info") == 0) return blis_info();
        if (strcmp(argv[i], "--predict") == 0) predict = 1;
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            char *end;
            long t = strtol(argv[++i], &end, 10);
            if (*end || t < 1 || t > 1024) {
                fprintf(stderr, "kl_workload: --threads wants 1..1024, got '%s'\n", argv[i]);
                return 2;
            }
            threads = (int)t;
        } else if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, "kl_workload: unknown option '%s'\n", argv[i]);
            return usage(stderr), 2;
        } else if (npos < 5) pos[npos++] = argv[i];
        else return usage(stderr), 2;
    }
    if (npos != 5) return usage(stderr), 2;

    kl_op op;
    ptrdiff_t d[3];
    if (!parse_op(pos[0], &op)) {
        fprintf(stderr, "kl_workload: unknown op '%s' (matmul, relu, layernorm)\n", pos[0]);
        return 2;
    }
    for (int i = 0; i < 3; i++)
        if (!parse_size(pos[2 + i], &d[i])) {
            fprintf(stderr, "kl_workload: size '%s' is not an integer in 0..2^40\n", pos[2 + i]);
            return 2;
        }
    const char *name = pos[1];
    const int blis = is_blis(name);
    const kl_variant *v = blis ? NULL : kl_variant_find(op, name);
    if (!blis && !v) {
        fprintf(stderr, "kl_workload: no %s variant named '%s' (see --list)\n", pos[0], name);
        return 2;
    }
    if (v && !kl_variant_available(v)) {
        fprintf(stderr, "kl_workload: %s/%s needs %s; this CPU has %s\n", pos[0], name,
                kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()));
        return 3;
    }
    /* relu ignores d1, d2; layernorm ignores d2 (the registry's convention). */
    if (op == KL_OP_RELU) d[1] = d[2] = 0;
    if (op == KL_OP_LAYERNORM) d[2] = 0;
    const int t_eff = v && v->threaded ? threads : 1;
    const size_t io = sizeof(float) * io_floats(op, blis, (size_t)d[0], (size_t)d[1], (size_t)d[2]);
    const size_t scratch = v && v->scratch_bytes ? v->scratch_bytes(d[0], d[1], d[2], t_eff) : 0;

    if (predict) {
        printf("{\"op\": \"%s\", \"variant\": \"%s\", \"d\": [%td, %td, %td], \"threads\": %d, "
               "\"io_bytes\": %zu, \"scratch_bytes\": %zu, \"scratch_formula\": %s, "
               "\"predicted_bytes\": %zu}\n",
               pos[0], name, d[0], d[1], d[2], t_eff, io, scratch,
               blis ? "null" : v->scratch_bytes ? "true" : "false", io + scratch);
        return 0;
    }

    if (blis) {
        kl_blis_prepare(NULL, 0);
        bli_thread_set_num_threads(threads);
    } else {
        kl_set_num_threads(threads);
    }

    kl_status s = KL_ENOMEM;
    if (op == KL_OP_MATMUL) {
        ptrdiff_t m = d[0], n = d[1], k = d[2];
        float *A = floats((size_t)(m * k), 1, -1, 1), *B = floats((size_t)(k * n), 2, -1, 1);
        float *C = floats((size_t)(m * n), 3, -1, 1);
        if (A && B && C) {
            if (blis) {
                float alpha = 1, beta = 0;
                bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, A, k, 1, B, n, 1,
                          &beta, C, n, 1);
                s = KL_OK;
            } else {
                s = kl_matmul_run(v, m, n, k, 1.0f, A, k, B, n, 0.0f, C, n);
            }
        }
        free(A), free(B), free(C);
    } else if (op == KL_OP_RELU) {
        ptrdiff_t n = d[0];
        float *x = floats((size_t)n, 4, -1, 1), *y = floats((size_t)n, 5, -1, 1);
        if (x && y) {
            if (blis) {
                bli_scopyv(BLIS_NO_CONJUGATE, n, x, 1, y, 1);
                s = KL_OK;
            } else {
                s = kl_relu_run(v, n, x, y);
            }
        }
        free(x), free(y);
    } else if (op == KL_OP_LINEAR_RELU) {
        ptrdiff_t m = d[0], n = d[1], k = d[2];
        float *A = floats((size_t)(m * k), 1, -1, 1), *B = floats((size_t)(k * n), 2, -1, 1);
        float *bias = floats((size_t)n, 13, -1, 1), *C = floats((size_t)(m * n), 3, -1, 1);
        if (A && B && bias && C) {
            if (blis) {
                float alpha = 1, beta = 0;
                bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, k, &alpha, A, k, 1, B, n, 1,
                          &beta, C, n, 1);
                for (ptrdiff_t i = 0; i < m; i++)
                    for (ptrdiff_t j = 0; j < n; j++) {
                        float x = C[i * n + j] + bias[j];
                        C[i * n + j] = x < 0 ? 0 : x;
                    }
                s = KL_OK;
            } else {
                s = kl_linear_relu_run(v, m, n, k, A, k, B, n, bias, C, n);
            }
        }
        free(A), free(B), free(bias), free(C);
    } else {
        ptrdiff_t rows = d[0], cols = d[1];
        size_t rc = (size_t)(rows * cols);
        float *x = floats(rc, 6, -2, 3), *y = floats(rc, 7, -1, 1);
        float *g = floats((size_t)cols, 8, 0.5f, 1.5f), *b = floats((size_t)cols, 9, -0.5f, 0.5f);
        float *mean = floats((size_t)rows, 10, 0, 1), *rstd = floats((size_t)rows, 11, 0, 1);
        float *ones = blis ? floats((size_t)cols, 12, 1, 1) : NULL;
        if (x && y && g && b && mean && rstd && (!blis || ones)) {
            if (blis) {
                blis_layernorm(rows, cols, x, g, b, ones, y, mean, rstd);
                s = KL_OK;
            } else {
                s = kl_layernorm_run(v, rows, cols, x, g, b, kEps, y, mean, rstd);
            }
        }
        free(x), free(y), free(g), free(b), free(mean), free(rstd), free(ones);
    }
    if (s != KL_OK) {
        fprintf(stderr, "kl_workload %s/%s %td %td %td: %s\n", pos[0], name, d[0], d[1], d[2],
                kl_status_str(s));
        return 1;
    }
    return 0;
}
