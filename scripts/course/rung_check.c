/* The grader's own correctness check of one rung. Its verdict never comes from a process that
 * holds student code: the pristine instructor build (trusted) writes a case's inputs and holds
 * the outputs to the float64 oracle; a copy linked with the student's kernels (the worker, in
 * the sandbox) only turns inputs into output bytes.
 *   trusted: rung_check list                         available rungs: "op variant threaded"
 *            rung_check gen OP D0 D1 D2 SEED FILE     writes FILE, prints the outputs' size in bytes
 *            rung_check check OP D0 D1 D2 INPUTS OUTPUTS
 *   worker:  rung_check run OP VARIANT D0 D1 D2 THREADS INPUTS OUT
 * Sizes as rung_timer.c: matmul and linear_relu C[D0][D1] = A[D0][D2] . B[D2][D1] (+ bias[D1]);
 * relu n = D0; layernorm D0 rows x D1 cols. Every buffer is contiguous floats; INPUTS holds them
 * all in order (the outputs' initial contents too), OUT the output buffers in order.
 * Exit: 0 done (check: matches the oracle), 3 wrong result or output of the wrong size,
 * 4 the variant returned an error, 2 bad usage, unreadable inputs or no memory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernellab.h"
#include "reference.h"

enum { MAX_BUFS = 6 };
typedef struct {
    int count;             /* buffers */
    size_t len[MAX_BUFS];  /* floats each */
    int output[MAX_BUFS];  /* written by the kernel */
    float *p[MAX_BUFS];
} bufs;

static void add(bufs *b, size_t len, int output) {
    b->len[b->count] = len, b->output[b->count++] = output;
}

/* The buffers of one case, in file order (m, n, k = D0, D1, D2); 0 for an op the check does
 * not know, or no memory. */
static int layout(const char *op, size_t m, size_t n, size_t k, bufs *b) {
    memset(b, 0, sizeof *b);
    if (strcmp(op, "matmul") == 0 || strcmp(op, "linear_relu") == 0) {
        add(b, m * k, 0), add(b, k * n, 0);               /* A, B */
        if (strcmp(op, "linear_relu") == 0) add(b, n, 0); /* bias */
        add(b, m * n, 1);                                 /* C */
    } else if (strcmp(op, "relu") == 0) {
        add(b, m, 0), add(b, m, 1); /* x, y */
    } else if (strcmp(op, "layernorm") == 0) {
        add(b, m * n, 0), add(b, n, 0), add(b, n, 0); /* x, gamma, beta */
        add(b, m * n, 1), add(b, m, 1), add(b, m, 1); /* y, mean, rstd */
    } else {
        return 0;
    }
    for (int j = 0; j < b->count; j++)
        if (!(b->p[j] = malloc((b->len[j] ? b->len[j] : 1) * sizeof(float)))) return 0;
    return 1;
}

static size_t bytes(const bufs *b, int outputs_only) {
    size_t n = 0;
    for (int j = 0; j < b->count; j++)
        if (!outputs_only || b->output[j]) n += b->len[j] * sizeof(float);
    return n;
}

/* Reads exactly the buffers' bytes from path (all buffers, or the outputs only): 0 when the file
 * holds exactly that many, else -1 (short or long: nothing past the size is believed). */
static int load(const char *path, bufs *b, int outputs_only) {
    int fd = open(path, O_RDONLY | O_CLOEXEC), bad = fd < 0;
    for (int j = 0; !bad && j < b->count; j++) {
        if (outputs_only && !b->output[j]) continue;
        size_t want = b->len[j] * sizeof(float), got = 0;
        while (got < want) {
            ssize_t r = read(fd, (char *)b->p[j] + got, want - got);
            if (r <= 0) break;
            got += (size_t)r;
        }
        bad = got != want;
    }
    char extra;
    if (!bad && read(fd, &extra, 1) != 0) bad = 1;
    if (fd >= 0) close(fd);
    return bad ? -1 : 0;
}

static int store(int fd, const bufs *b, int outputs_only) {
    for (int j = 0; j < b->count; j++) {
        if (outputs_only && !b->output[j]) continue;
        size_t want = b->len[j] * sizeof(float), put = 0;
        while (put < want) {
            ssize_t w = write(fd, (const char *)b->p[j] + put, want - put);
            if (w <= 0) return -1;
            put += (size_t)w;
        }
    }
    return 0;
}

static unsigned long long next(unsigned long long *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

/* Every float uniform in [-1, 1), layernorm's gamma in [0, 2) (as rung_timer.c draws them). */
static int gen(const char *op, bufs *b, unsigned long long seed, const char *path) {
    seed |= 1; /* xorshift needs a nonzero state */
    for (int j = 0; j < b->count; j++) {
        float shift = strcmp(op, "layernorm") == 0 && j == 1 ? 1.0f : 0.0f;
        for (size_t i = 0; i < b->len[j]; i++)
            b->p[j][i] = shift + (float)(next(&seed) >> 40) / (float)(1 << 23) - 1.0f;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int bad = fd < 0 || store(fd, b, 0) != 0;
    if (fd >= 0 && close(fd) != 0) bad = 1;
    if (bad) return 2;
    printf("%zu\n", bytes(b, 1));
    return 0;
}

/* matmul's scalars: beta 0.5, as the lessons use, so C must be scaled, not overwritten. */
static const float ALPHA = 1.0f, BETA = 0.5f;

static int check(const char *op, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, bufs *b, const char *outputs) {
    float **p = b->p, *c0 = NULL;
    if (strcmp(op, "matmul") == 0) { /* C before the call */
        if (!(c0 = malloc(b->len[2] * sizeof(float) + 1))) return 2;
        memcpy(c0, p[2], b->len[2] * sizeof(float));
    }
    if (load(outputs, b, 1) != 0) return 3;
    ptrdiff_t where = 0;
    double worst;
    if (strcmp(op, "matmul") == 0)
        worst = kl_check_matmul(m, n, k, ALPHA, p[0], k, p[1], n, BETA, c0, p[2], n, &where);
    else if (strcmp(op, "linear_relu") == 0)
        worst = kl_check_linear_relu(m, n, k, p[0], k, p[1], n, p[2], p[3], n, &where);
    else if (strcmp(op, "relu") == 0)
        worst = kl_check_relu(m, p[0], p[1], &where);
    else
        worst = kl_check_layernorm(m, n, p[0], p[1], p[2], 1e-5f, p[3], p[4], p[5], &where);
    return worst <= 1.0 ? 0 : 3;
}

static int run(const char *op, const char *v, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, bufs *b,
               const char *out) {
    float **p = b->p;
    kl_status s;
    if (strcmp(op, "matmul") == 0)
        s = kl_matmul_variant(v, m, n, k, ALPHA, p[0], k, p[1], n, BETA, p[2], n);
    else if (strcmp(op, "linear_relu") == 0)
        s = kl_linear_relu_variant(v, m, n, k, p[0], k, p[1], n, p[2], p[3], n);
    else if (strcmp(op, "relu") == 0)
        s = kl_relu_variant(v, m, p[0], p[1]);
    else
        s = kl_layernorm_variant(v, m, n, p[0], p[1], p[2], 1e-5f, p[3], p[4], p[5]);
    if (s != KL_OK) return 4;
    int fd = open(out, O_WRONLY | O_CLOEXEC);
    return fd >= 0 && store(fd, b, 1) == 0 ? 0 : 2;
}

static int list(void) {
    const kl_op ops[] = {KL_OP_MATMUL, KL_OP_RELU, KL_OP_LAYERNORM, KL_OP_LINEAR_RELU};
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        for (size_t j = 0; j < sizeof ops / sizeof ops[0]; j++)
            if (v->op == ops[j] && kl_variant_available(v))
                printf("%s %s %d\n", kl_op_name(v->op), v->name, v->threaded ? 1 : 0);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *role = argc > 1 ? argv[1] : "";
    if (strcmp(role, "list") == 0 && argc == 2) return list();
    int worker = strcmp(role, "run") == 0, trusted = !strcmp(role, "gen") || !strcmp(role, "check");
    if (!(worker ? argc == 10 : trusted && argc == 8))
        return fprintf(stderr, "usage: see scripts/course/rung_check.c\n"), 2;
    /* gen/check OP D0 D1 D2 X Y; run OP VARIANT D0 D1 D2 THREADS INPUTS OUT */
    char **d = argv + (worker ? 4 : 3);
    const char *op = argv[2];
    ptrdiff_t m = atol(d[0]), n = atol(d[1]), k = atol(d[2]);
    bufs b;
    if (m < 1 || n < 0 || k < 0 || !layout(op, (size_t)m, (size_t)n, (size_t)k, &b)) return 2;
    int rc;
    if (strcmp(role, "gen") == 0)
        rc = gen(op, &b, strtoull(d[3], NULL, 10), d[4]);
    else if (load(worker ? d[4] : d[3], &b, 0) != 0)
        rc = 2;
    else if (!worker)
        rc = check(op, m, n, k, &b, d[4]);
    else if (kl_set_num_threads(atoi(d[3])) != KL_OK)
        rc = 2;
    else
        rc = run(op, argv[3], m, n, k, &b, d[5]);
    fflush(NULL);
    _exit(rc); /* no exit handler of the kernel's runs */
}
