/* The op table (kernels/ops/ops.h): every op has a complete descriptor, and every available
 * variant of every op, run through its descriptor (the way kl_bench, kl_workload and the
 * lessons run it), passes its check over small and ragged shapes with padded rows. A new op's
 * variants are swept here as soon as its descriptor is in the table. The checks must fail on a
 * wrong output: a corrupted element and an output left unwritten are caught. */
#include "ops.h"
#include "test_util.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static void group_descriptors(void) {
    tu_group g;
    tu_begin_op(&g, "ops", "descriptors");
    for (int o = 0; o < KL_OP_COUNT; o++) {
        const kl_op_desc *op = kl_op_desc_of((kl_op)o);
        tu_check(&g, op != NULL, "op %d has no descriptor", o);
        if (!op) continue;
        tu_check(&g, op->op == (kl_op)o && strcmp(op->name, kl_op_name((kl_op)o)) == 0,
                 "%s: descriptor is for op %d (%s)", kl_op_name((kl_op)o), op->op, op->name);
        tu_check(&g, kl_op_desc_named(op->name) == op, "%s: not found by name", op->name);
        tu_check(&g, op->ndims >= 1 && op->ndims <= KL_OP_MAX_DIMS && op->nbufs >= 1 &&
                         op->nbufs <= KL_OP_MAX_BUFS && op->nparams <= KL_OP_MAX_PARAMS,
                 "%s: ndims %d, nbufs %d, nparams %d", op->name, op->ndims, op->nbufs,
                 op->nparams);
        for (int j = 0; j < op->ndims; j++)
            tu_check(&g, op->dim_names[j] && *op->dim_names[j], "%s: dim %d has no name",
                     op->name, j);
        for (int i = 0; i < op->nbufs; i++)
            tu_check(&g, op->bufs[i].rows < op->ndims && op->bufs[i].cols < op->ndims,
                     "%s: buffer %s spans a dim the op does not have", op->name, op->bufs[i].name);
        tu_check(&g, op->flops && op->bytes && op->call && op->check && op->bench_shapes &&
                         op->rate && op->bound && op->summary && op->blis_name,
                 "%s: a required field is missing", op->name);
        tu_check(&g, op->blis == NULL, "%s: kernellab_ops should have no BLIS baseline", op->name);
        ptrdiff_t shapes[16][KL_OP_MAX_DIMS];
        for (int quick = 0; quick < 2; quick++) {
            size_t n = op->bench_shapes(quick, shapes, 16);
            tu_check(&g, n >= 1 && n <= 16, "%s: %zu bench shapes", op->name, n);
            for (size_t s = 0; s < n && s < 16; s++)
                tu_check(&g, op->flops(shapes[s]) > 0 && op->bytes(shapes[s]) > 0,
                         "%s: bench shape %zu has no work", op->name, s);
        }
    }
    /* The byte models, written out once more here on purpose: a change to one must be seen. */
    const ptrdiff_t d[3] = {3, 5, 7};
    tu_check(&g, kl_op_desc_of(KL_OP_MATMUL)->flops(d) == 2 * 3 * 5 * 7 &&
                     kl_op_desc_of(KL_OP_MATMUL)->bytes(d) == 4 * (3 * 7 + 7 * 5 + 3 * 5),
             "matmul's flops or bytes changed");
    tu_check(&g, kl_op_desc_of(KL_OP_RELU)->bytes(d) == 8 * 3, "relu's bytes changed");
    tu_check(&g, kl_op_desc_of(KL_OP_LAYERNORM)->bytes(d) == 4 * (2 * 15 + 2 * 5 + 2 * 3),
             "layernorm's bytes changed");
    tu_check(&g, kl_op_desc_of(KL_OP_LINEAR_RELU)->bytes(d) == 4 * (21 + 35 + 5 + 15),
             "linear_relu's bytes changed");
    tu_check(&g, kl_op_desc_named("nope") == NULL && kl_op_desc_of(KL_OP_COUNT) == NULL,
             "unknown ops must give NULL");
    tu_end(&g);
}

/* Shapes: every dim over a few edge sizes, the others at a middle size. */
static const ptrdiff_t kSizes[] = {0, 1, 2, 3, 7, 17, 33, 67};
#define NSIZES (sizeof kSizes / sizeof kSizes[0])

static void run_case(tu_group *g, const kl_variant *v, const ptrdiff_t *d, ptrdiff_t pad) {
    const kl_op_desc *op = kl_op_desc_of(v->op);
    kl_op_args a;
    kl_status s = kl_op_args_alloc(op, d, pad, 42, 0, &a);
    if (s == KL_OK) s = kl_op_call(v, &a);
    ptrdiff_t where = -1;
    double worst = s == KL_OK ? kl_op_check(&a, 0, &where) : INFINITY;
    tu_check(g, s == KL_OK && worst <= 1.0, "d=(%td,%td,%td) pad=%td: %s, worst %.3g at %td",
             d[0], d[1], d[2], pad, kl_status_str(s), worst, where);
    kl_op_args_free(&a);
}

static void group_variant(const kl_variant *v) {
    const kl_op_desc *op = kl_op_desc_of(v->op);
    tu_group g;
    tu_begin(&g, v, "through the op table", 0);
    for (int j = 0; j < op->ndims; j++)
        for (size_t i = 0; i < NSIZES; i++) {
            ptrdiff_t d[KL_OP_MAX_DIMS] = {0, 0, 0};
            for (int o = 0; o < op->ndims; o++) d[o] = o == j ? kSizes[i] : 19;
            if (d[j] < op->min_dims[j]) continue; /* below the op's contract */
            run_case(&g, v, d, 0);
            run_case(&g, v, d, 3);
        }
    tu_end(&g);
}

/* The checks can fail: one element off, and an output never written (NaN fill). */
static void group_checks_fail(void) {
    tu_group g;
    tu_begin_op(&g, "ops", "checks fail on wrong output");
    for (int o = 0; o < KL_OP_COUNT; o++) {
        const kl_op_desc *op = kl_op_desc_of((kl_op)o);
        const kl_variant *v = kl_best_variant((kl_op)o);
        ptrdiff_t d[KL_OP_MAX_DIMS] = {9, 9, 9};
        int out = -1;
        for (int i = 0; i < op->nbufs; i++)
            if (op->bufs[i].role != KL_BUF_IN && !(op->bufs[i].flags & KL_BUF_OPTIONAL)) out = i;
        kl_op_args a;
        ptrdiff_t where;
        if (kl_op_args_alloc(op, d, 0, 7, 0, &a) == KL_OK && out >= 0) {
            double unwritten = kl_op_check(&a, 0, &where);
            tu_check(&g, !(unwritten <= 1.0), "%s: an unwritten %s passed", op->name,
                     op->bufs[out].name);
            kl_status s = kl_op_call(v, &a);
            tu_check(&g, s == KL_OK && kl_op_check(&a, 0, &where) <= 1.0, "%s/%s: %s",
                     op->name, v->name, kl_status_str(s));
            a.buf[out][4] = a.buf[out][4] * 1.5f + 1.0f;
            tu_check(&g, !(kl_op_check(&a, 0, &where) <= 1.0), "%s: a corrupted %s passed",
                     op->name, op->bufs[out].name);
        } else {
            tu_check(&g, 0, "%s: no arguments or no output buffer", op->name);
        }
        kl_op_args_free(&a);
    }
    /* bad dims are refused, not allocated */
    kl_op_args a;
    ptrdiff_t bad[KL_OP_MAX_DIMS] = {-1, 4, 4}, huge[KL_OP_MAX_DIMS] = {PTRDIFF_MAX / 2, 4, 4};
    tu_check(&g, kl_op_args_alloc(kl_op_desc_of(KL_OP_MATMUL), bad, 0, 1, 0, &a) == KL_EINVAL,
             "a negative dim was accepted");
    kl_op_args_free(&a);
    tu_check(&g, kl_op_args_alloc(kl_op_desc_of(KL_OP_MATMUL), huge, 0, 1, 0, &a) == KL_EINVAL,
             "an overflowing dim was accepted");
    kl_op_args_free(&a);
    tu_end(&g);
}

int main(void) {
    group_descriptors();
    group_checks_fail();
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (tu_available_or_skip(v)) group_variant(v);
    }
    return tu_exit_code();
}
