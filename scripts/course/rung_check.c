/* The grader's own correctness check of one rung. Its verdict never comes from a process that
 * holds student code: the pristine instructor build (trusted) writes a case's inputs and holds
 * the outputs to the float64 oracle; a copy linked with the student's kernels (the worker, in
 * the sandbox) only turns inputs into output bytes.
 *   trusted: rung_check list                         available rungs: "op variant threaded"
 *            rung_check gen OP D0 D1 D2 SEED FILE     writes FILE, prints the outputs' size in bytes
 *            rung_check check OP D0 D1 D2 INPUTS OUTPUTS
 *   worker:  rung_check run OP VARIANT D0 D1 D2 THREADS INPUTS OUT
 * Everything about an op comes from the op table (kernels/ops/ops.h): its dims (D0.. in the
 * descriptor's order, each >= 1; the ones past its ndims are ignored but must not be
 * negative), its buffers, how their inputs are
 * drawn, the call and the float64 check. A "beta" parameter is set to 0.5, so a kernel must
 * scale C rather than overwrite it. INPUTS holds every buffer in the descriptor's order (the
 * outputs' initial contents too: NaN for a write-only one), OUT the written buffers in order.
 * Exit: 0 done (check: matches the oracle), 3 wrong result or output of the wrong size,
 * 4 the variant returned an error, 2 bad usage, unreadable inputs or no memory. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernellab.h"
#include "ops.h"

static const float BETA = 0.5f;

static int is_output(const kl_op_args *a, int i) { return a->op->bufs[i].role != KL_BUF_IN; }

/* The case's buffers: descriptor defaults, then beta. 0 on bad dims (the op's own below 1 or
 * its minimum, any negative) or no memory. */
static int make(const kl_op_desc *op, char **dims, uint64_t seed, unsigned flags, kl_op_args *a) {
    ptrdiff_t d[KL_OP_MAX_DIMS] = {0};
    for (int j = 0; j < KL_OP_MAX_DIMS; j++) {
        ptrdiff_t v = atol(dims[j]);
        if (v < 0 || (j < op->ndims && (v < 1 || v < op->min_dims[j]))) return 0;
        if (j < op->ndims) d[j] = v;
    }
    if (kl_op_args_alloc(op, d, 0, seed, flags, a) != KL_OK) return 0;
    int beta = kl_op_param_index(op, "beta");
    if (beta >= 0) a->p[beta] = BETA;
    return 1;
}

static size_t bytes(const kl_op_args *a, int outputs_only) {
    size_t n = 0;
    for (int i = 0; i < a->op->nbufs; i++)
        if (a->buf[i] && (!outputs_only || is_output(a, i))) n += kl_op_buf_floats(a, i) * sizeof(float);
    return n;
}

/* Reads exactly the buffers' bytes from path (all buffers, or the outputs only): 0 when the file
 * holds exactly that many, else -1 (short or long: nothing past the size is believed). */
static int load(const char *path, kl_op_args *a, int outputs_only) {
    int fd = open(path, O_RDONLY | O_CLOEXEC), bad = fd < 0;
    for (int i = 0; !bad && i < a->op->nbufs; i++) {
        if (!a->buf[i] || (outputs_only && !is_output(a, i))) continue;
        size_t want = kl_op_buf_floats(a, i) * sizeof(float), got = 0;
        while (got < want) {
            ssize_t r = read(fd, (char *)a->buf[i] + got, want - got);
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

static int store(int fd, const kl_op_args *a, int outputs_only) {
    for (int i = 0; i < a->op->nbufs; i++) {
        if (!a->buf[i] || (outputs_only && !is_output(a, i))) continue;
        size_t want = kl_op_buf_floats(a, i) * sizeof(float), put = 0;
        while (put < want) {
            ssize_t w = write(fd, (const char *)a->buf[i] + put, want - put);
            if (w <= 0) return -1;
            put += (size_t)w;
        }
    }
    return 0;
}

static int gen(const kl_op_args *a, const char *path) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int bad = fd < 0 || store(fd, a, 0) != 0;
    if (fd >= 0 && close(fd) != 0) bad = 1;
    if (bad) return 2;
    printf("%zu\n", bytes(a, 1));
    return 0;
}

/* The inputs as gen wrote them (the INOUT buffers' values before the call kept as the initial
 * copies the check reads), then the worker's outputs over them. */
static int check(kl_op_args *a, const char *inputs, const char *outputs) {
    if (load(inputs, a, 0) != 0) return 2;
    for (int i = 0; i < a->op->nbufs; i++)
        if (a->initial[i]) memcpy(a->initial[i], a->buf[i], kl_op_buf_floats(a, i) * sizeof(float));
    if (load(outputs, a, 1) != 0) return 3;
    ptrdiff_t where = 0;
    return kl_op_check(a, 0, &where) <= 1.0 ? 0 : 3; /* NaN fails too */
}

static int run(kl_op_args *a, const char *variant, const char *threads, const char *inputs,
               const char *out) {
    if (load(inputs, a, 0) != 0 || kl_set_num_threads(atoi(threads)) != KL_OK) return 2;
    const kl_variant *v = kl_variant_find(a->op->op, variant);
    if (!v || kl_op_call(v, a) != KL_OK) return 4;
    int fd = open(out, O_WRONLY | O_CLOEXEC);
    return fd >= 0 && store(fd, a, 1) == 0 ? 0 : 2;
}

static int list(void) {
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (kl_op_desc_of(v->op) && kl_variant_available(v))
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
    const kl_op_desc *op = kl_op_desc_named(argv[2]);
    int is_gen = strcmp(role, "gen") == 0;
    uint64_t seed = is_gen ? strtoull(d[3], NULL, 10) : 0;
    kl_op_args a;
    int rc;
    if (!op || !make(op, d, seed, worker ? KL_ARGS_NO_INITIAL : 0, &a))
        rc = 2;
    else if (is_gen)
        rc = gen(&a, d[4]);
    else if (!worker)
        rc = check(&a, d[3], d[4]);
    else
        rc = run(&a, argv[3], d[3], d[4], d[5]);
    fflush(NULL);
    _exit(rc); /* no exit handler of the kernel's runs */
}
