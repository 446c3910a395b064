/* The grader's timing driver: calls one kernellab variant REPS + 1 times, then exits. It
 * prints nothing the grader believes: the grader times the whole process from outside (CPU
 * time of REPS calls minus that of 0 calls), so a kernel cannot report its own speed.
 *   rung_timer OP VARIANT D0 D1 D2 THREADS REPS
 * The op, its dims (D0.. in the op table's order, each >= 1; those past its ndims are ignored
 * but must not be negative), its
 * buffers and their inputs, the call and the float64 check all come from the op table
 * (kernels/ops/ops.h), with its default parameters (matmul: beta 0), so the instructor's run
 * and the student's see the same inputs.
 * No call may reuse an earlier one's work: before each call one element of the op's first
 * input, picked by a random sequence seeded per process, changes sign, so consecutive calls
 * never see the same inputs and a kernel cannot know what changed without reading its whole
 * input. A sign flip keeps the inputs' spread (ReLU's are symmetric about 0: growing values
 * would in time turn its branches predictable). One call, also picked at random, is held to
 * the float64 oracle right after it returns: a kernel that answers from a cache fails. The
 * buffers stay the same (the race sizes are chosen to fit a cache level). The process ends
 * with _exit: no exit handler of the kernel's runs.
 * Exit: 0 ran and matched the oracle, 3 wrong result, 4 the variant returned an error,
 * 2 bad usage or no memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "kernellab.h"
#include "ops.h"

static unsigned long long next(unsigned long long *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

static unsigned long long secret;
static void perturb(float *x, size_t count) {
    size_t i = (size_t)(((next(&secret) >> 32) * count) >> 32);
    x[i] = -x[i];
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
    const kl_op_desc *op = kl_op_desc_named(argv[1]);
    long reps = atol(argv[7]);
    ptrdiff_t d[KL_OP_MAX_DIMS] = {0};
    int bad = !op;
    /* as rung_check.c: the op's dims >= 1. Repeated, not a library helper: scripts/grade
     * builds these programs against the student's tree too, which may predate any helper. */
    for (int j = 0; !bad && j < KL_OP_MAX_DIMS; j++) {
        ptrdiff_t v = atol(argv[3 + j]);
        bad = v < 0 || (j < op->ndims && (v < 1 || v < op->min_dims[j]));
        if (j < op->ndims) d[j] = v;
    }
    if (bad || reps < 0 || kl_set_num_threads(atoi(argv[6])) != KL_OK) return 2;
    const kl_variant *v = kl_variant_find(op->op, argv[2]);
    if (!v) return finish(4);
    if (getrandom(&secret, sizeof secret, 0) != (ssize_t)sizeof secret) return 2;
    secret |= 1; /* xorshift needs a nonzero state */
    kl_op_args a;
    if (kl_op_args_alloc(op, d, 0, 1, 0, &a) != KL_OK) return finish(2);
    int in = 0; /* the first input buffer: the one perturbed */
    while (in < op->nbufs && op->bufs[in].role != KL_BUF_IN) in++;
    if (in == op->nbufs || !a.buf[in]) return finish(2);
    const size_t in_floats = kl_op_buf_floats(&a, in);
    /* The call held to the oracle: never the first of a REPS run (nothing to reuse yet). */
    long checked = reps ? 1 + (long)(next(&secret) % (unsigned long long)reps) : 0;
    ptrdiff_t where = 0;
    double worst = 0.0;
    kl_status s = KL_OK;
    for (long r = 0; r <= reps && s == KL_OK; r++) {
        if (in_floats) perturb(a.buf[in], in_floats);
        if (r == checked) kl_op_args_reset(&a); /* the read-write buffers as the check expects */
        s = kl_op_call(v, &a);
        if (s == KL_OK && r == checked) worst = kl_op_check(&a, 0, &where);
    }
    return finish(s != KL_OK ? 4 : worst <= 1.0 ? 0 : 3);
}
