/* The grader's timing driver: calls one kernellab variant REPS times on seeded inputs, then
 * holds the last output to the float64 oracle. It prints nothing the grader believes: the
 * grader times the whole process from outside (wall clock of REPS calls minus that of 0
 * calls), so a kernel cannot report its own speed.
 *   rung_timer OP VARIANT D0 D1 D2 THREADS REPS
 *   matmul: C[D0][D1] = A[D0][D2] * B[D2][D1]; relu: n = D0; layernorm: D0 rows x D1 cols.
 * Exit: 0 ran and matched the oracle, 3 wrong result, 4 the variant returned an error,
 * 2 bad usage or no memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernellab.h"
#include "reference.h"

static float *floats(size_t count, unsigned long long seed, float shift) {
    float *p = malloc((count ? count : 1) * sizeof(float));
    for (size_t i = 0; p && i < count; i++) {
        seed ^= seed >> 12, seed ^= seed << 25, seed ^= seed >> 27;
        p[i] = shift + (float)((seed * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 23) - 1.0f;
    }
    return p;
}

int main(int argc, char **argv) {
    if (argc != 8) {
        fprintf(stderr, "usage: rung_timer OP VARIANT D0 D1 D2 THREADS REPS\n");
        return 2;
    }
    const char *op = argv[1], *v = argv[2];
    ptrdiff_t d0 = atol(argv[3]), d1 = atol(argv[4]), d2 = atol(argv[5]);
    long reps = atol(argv[7]);
    if (d0 < 1 || d1 < 0 || d2 < 0 || reps < 0 || kl_set_num_threads(atoi(argv[6])) != KL_OK) return 2;
    size_t m = (size_t)d0, n = (size_t)(d1 ? d1 : 1), k = (size_t)(d2 ? d2 : 1);
    ptrdiff_t where = 0;
    double worst = 0.0;
    kl_status s = KL_OK;
    if (strcmp(op, "matmul") == 0) {
        float *a = floats(m * k, 1, 0), *b = floats(k * n, 2, 0), *c = floats(m * n, 3, 0);
        float *c0 = calloc(m * n, sizeof(float));
        if (!a || !b || !c || !c0) return 2;
        for (long r = 0; r <= reps && s == KL_OK; r++)
            s = kl_matmul_variant(v, d0, d1, d2, 1.0f, a, d2, b, d1, 0.0f, c, d1);
        if (s == KL_OK) worst = kl_check_matmul(d0, d1, d2, 1.0f, a, d2, b, d1, 0.0f, c0, c, d1, &where);
    } else if (strcmp(op, "relu") == 0) {
        float *x = floats(m, 4, 0), *y = floats(m, 5, 0);
        if (!x || !y) return 2;
        for (long r = 0; r <= reps && s == KL_OK; r++) s = kl_relu_variant(v, d0, x, y);
        if (s == KL_OK) worst = kl_check_relu(d0, x, y, &where);
    } else if (strcmp(op, "layernorm") == 0) {
        float *x = floats(m * n, 6, 0), *y = floats(m * n, 7, 0), *g = floats(n, 8, 1.0f);
        float *b = floats(n, 9, 0), *mean = floats(m, 10, 0), *rstd = floats(m, 11, 0);
        if (!x || !y || !g || !b || !mean || !rstd) return 2;
        for (long r = 0; r <= reps && s == KL_OK; r++)
            s = kl_layernorm_variant(v, d0, d1, x, g, b, 1e-5f, y, mean, rstd);
        if (s == KL_OK) worst = kl_check_layernorm(d0, d1, x, g, b, 1e-5f, y, mean, rstd, &where);
    } else {
        return 2;
    }
    if (s != KL_OK) return 4;
    return worst <= 1.0 ? 0 : 3;
}
