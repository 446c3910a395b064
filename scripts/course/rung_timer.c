/* The grader's timing driver: calls one kernellab variant REPS + 1 times, then exits. It
 * prints nothing the grader believes: the grader times the whole process from outside (CPU
 * time of REPS calls minus that of 0 calls), so a kernel cannot report its own speed.
 *   rung_timer OP VARIANT D0 D1 D2 THREADS REPS
 *   matmul: C[D0][D1] = A[D0][D2] * B[D2][D1]; relu: n = D0; layernorm: D0 rows x D1 cols.
 * No call may reuse an earlier one's work: calls cycle over SETS input/output sets (so the
 * previous call's buffers never come back next), and before each call one element of its
 * input grows (so no set ever repeats its inputs). One call, chosen at random per process,
 * is held to the float64 oracle right after it returns: a kernel that answers from a cache
 * fails. The process ends with _exit: no exit handler of the kernel's runs.
 * Exit: 0 ran and matched the oracle, 3 wrong result, 4 the variant returned an error,
 * 2 bad usage or no memory. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "kernellab.h"
#include "reference.h"

enum { SETS = 3 };

static float *floats(size_t count, unsigned long long seed, float shift) {
    float *p = malloc((count ? count : 1) * sizeof(float));
    for (size_t i = 0; p && i < count; i++) {
        seed ^= seed >> 12, seed ^= seed << 25, seed ^= seed >> 27;
        p[i] = shift + (float)((seed * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 23) - 1.0f;
    }
    return p;
}

/* Before call r: one element of its set's input changes, so its output differs from every
 * earlier output of that set. |x| + 1 never equals an earlier value there, nor its ReLU. */
static void perturb(float *x, size_t count, long r) {
    size_t i = (size_t)r * 7919u % count;
    x[i] = fabsf(x[i]) + 1.0f;
}

static int finish(int code) {
    fflush(NULL);
    _exit(code);
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
    unsigned long long pick = 0;
    if (getrandom(&pick, sizeof pick, 0) != (ssize_t)sizeof pick) return 2;
    long checked = (long)(pick % (unsigned long long)(reps + 1)); /* the call held to the oracle */
    size_t m = (size_t)d0, n = (size_t)(d1 ? d1 : 1), k = (size_t)(d2 ? d2 : 1);
    ptrdiff_t where = 0;
    double worst = 0.0;
    kl_status s = KL_OK;
    if (strcmp(op, "matmul") == 0) {
        float *a[SETS], *b[SETS], *c[SETS], *c0 = calloc(m * n, sizeof(float));
        for (int i = 0; i < SETS; i++) {
            a[i] = floats(m * k, 1 + 3 * i, 0), b[i] = floats(k * n, 2 + 3 * i, 0), c[i] = floats(m * n, 3 + 3 * i, 0);
            if (!a[i] || !b[i] || !c[i] || !c0) return 2;
        }
        for (long r = 0; r <= reps && s == KL_OK; r++) {
            int i = (int)(r % SETS);
            perturb(a[i], m * k, r);
            s = kl_matmul_variant(v, d0, d1, d2, 1.0f, a[i], d2, b[i], d1, 0.0f, c[i], d1);
            if (s == KL_OK && r == checked)
                worst = kl_check_matmul(d0, d1, d2, 1.0f, a[i], d2, b[i], d1, 0.0f, c0, c[i], d1, &where);
        }
    } else if (strcmp(op, "relu") == 0) {
        float *x[SETS], *y[SETS];
        for (int i = 0; i < SETS; i++) {
            x[i] = floats(m, 4 + 2 * i, 0), y[i] = floats(m, 5 + 2 * i, 0);
            if (!x[i] || !y[i]) return 2;
        }
        for (long r = 0; r <= reps && s == KL_OK; r++) {
            int i = (int)(r % SETS);
            perturb(x[i], m, r);
            s = kl_relu_variant(v, d0, x[i], y[i]);
            if (s == KL_OK && r == checked) worst = kl_check_relu(d0, x[i], y[i], &where);
        }
    } else if (strcmp(op, "layernorm") == 0) {
        float *x[SETS], *y[SETS], *mean[SETS], *rstd[SETS], *g = floats(n, 8, 1.0f), *b = floats(n, 9, 0);
        for (int i = 0; i < SETS; i++) {
            x[i] = floats(m * n, 6 + 10 * i, 0), y[i] = floats(m * n, 7 + 10 * i, 0);
            mean[i] = floats(m, 10 + 10 * i, 0), rstd[i] = floats(m, 11 + 10 * i, 0);
            if (!x[i] || !y[i] || !g || !b || !mean[i] || !rstd[i]) return 2;
        }
        for (long r = 0; r <= reps && s == KL_OK; r++) {
            int i = (int)(r % SETS);
            perturb(x[i], m * n, r);
            s = kl_layernorm_variant(v, d0, d1, x[i], g, b, 1e-5f, y[i], mean[i], rstd[i]);
            if (s == KL_OK && r == checked)
                worst = kl_check_layernorm(d0, d1, x[i], g, b, 1e-5f, y[i], mean[i], rstd[i], &where);
        }
    } else {
        return 2;
    }
    return finish(s != KL_OK ? 4 : worst <= 1.0 ? 0 : 3);
}
