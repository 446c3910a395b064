/* kl_workload: ONE call of one kernel, for Valgrind Massif to profile (scripts/profile).
 *
 *   kl_workload OP VARIANT D0 D1 D2 [--threads T]   run it once; exit 0 on KL_OK
 *   kl_workload OP VARIANT D0 D1 D2 [--threads T] --predict
 *                                                   print the predicted heap bytes as JSON, run nothing
 *   kl_workload --list                              print "op variant rung isa available" per line
 *                                                   (isa: what it runs here, kl_variant_isa)
 *   kl_workload --blis-info                         print BLIS's version and sub-configuration as JSON
 *   kl_workload --shape OP                          print "D0 D1 D2": the largest of the op's
 *                                                   quick kl_bench shapes (a profile's default)
 *
 * Exit status 3: the variant needs an ISA this CPU (or Valgrind's emulated one) lacks.
 * OP is matmul, relu, layernorm or linear_relu; VARIANT is a registry name or "blis". Sizes are
 * (m, n, k) for matmul and linear_relu, (n, 0, 0) for relu, (rows, cols, 0) for layernorm, as
 * in the registry.
 *
 * Heap the workload itself allocates, exactly: the op's buffers as its descriptor lists them
 * (kernels/<op>/<op>_op.c; one allocation each, float32, freed at exit), without the copies
 * a check needs, plus the BLIS baseline's own buffers for blis (layernorm's ones[cols]):
 * kl_op_args_bytes. Predicted peak = those bytes + the variant's scratch_bytes(D0, D1, D2,
 * threads) from the registry (0 when it has none). BLIS's own packing buffers have no formula
 * here: for blis the prediction is the arrays alone, and scripts/profile does not flag it.
 *
 * The call is the one kl_bench times, with the descriptor's parameters; blis runs the op's BLIS
 * baseline (kl_bench's too). Nothing is printed while the arrays are live, so stdio's buffer is
 * not in the peak. */
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
#include "ops.h"

static void usage(FILE *f) {
    fputs("usage: kl_workload OP VARIANT D0 D1 D2 [--threads T] [--predict]\n"
          "       kl_workload --list | --blis-info | --shape OP | --help\n"
          "Runs one call of a kernellab variant (or \"blis\") for Valgrind Massif.\n"
          "OP: matmul or linear_relu (D0..D2 = m n k), relu (n 0 0), layernorm (rows cols 0).\n"
          "--predict prints {\"io_bytes\", \"scratch_bytes\", \"predicted_bytes\"} and runs nothing.\n",
          f);
}

static int parse_size(const char *s, ptrdiff_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > (1LL << 40)) return 0;
    *out = (ptrdiff_t)v;
    return 1;
}

/* "blis", or the op's BLIS baseline by its benchmark name ("blis_copyv", ...). */
static int is_blis(const kl_op_desc *op, const char *variant) {
    return strcmp(variant, "blis") == 0 || strcmp(variant, op->blis_name) == 0;
}

static int list_variants(void) {
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        printf("%s %s %s %s %d\n", kl_op_name(v->op), v->name, v->rung,
               kl_isa_name(kl_variant_isa(v)), kl_variant_available(v));
    }
    for (int op = 0; op < KL_OP_COUNT; op++) { /* ops BLIS has no routine for get no row */
        const kl_op_desc *d = kl_op_desc_of((kl_op)op);
        if (d && d->blis)
            printf("%s blis blis %s 1\n", kl_op_name((kl_op)op), kl_isa_name(kl_cpu_isa()));
    }
    return 0;
}

static int print_shape(const char *name) {
    const kl_op_desc *op = kl_op_desc_named(name);
    ptrdiff_t shapes[16][KL_OP_MAX_DIMS];
    size_t n = op ? op->bench_shapes(1, shapes, 16) : 0;
    if (n == 0 || n > 16) {
        fprintf(stderr, "kl_workload: no op named '%s' with quick shapes\n", name);
        return 2;
    }
    printf("%td %td %td\n", shapes[n - 1][0], shapes[n - 1][1], shapes[n - 1][2]);
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
        if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) return print_shape(argv[i + 1]);
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

    const kl_op_desc *op = kl_op_desc_named(pos[0]);
    ptrdiff_t d[3];
    if (!op) {
        fprintf(stderr, "kl_workload: unknown op '%s' (matmul, relu, layernorm, linear_relu)\n",
                pos[0]);
        return 2;
    }
    for (int i = 0; i < 3; i++)
        if (!parse_size(pos[2 + i], &d[i])) {
            fprintf(stderr, "kl_workload: size '%s' is not an integer in 0..2^40\n", pos[2 + i]);
            return 2;
        }
    const char *name = pos[1];
    const int blis = is_blis(op, name);
    const kl_variant *v = blis ? NULL : kl_variant_find(op->op, name);
    if (!blis && !v) {
        fprintf(stderr, "kl_workload: no %s variant named '%s' (see --list)\n", pos[0], name);
        return 2;
    }
    if (v && !kl_variant_available(v)) {
        fprintf(stderr, "kl_workload: %s/%s needs %s; this CPU has %s\n", pos[0], name,
                kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()));
        return 3;
    }
    for (int i = op->ndims; i < 3; i++) d[i] = 0; /* dims the op does not have */
    const int t_eff = v && v->threaded ? threads : 1;
    const unsigned flags = KL_ARGS_NO_INITIAL | (blis ? KL_ARGS_BASELINE : 0);
    const size_t io = kl_op_args_bytes(op, d, flags);
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

    kl_op_args args;
    kl_status s = kl_op_args_alloc(op, d, 0, 1, flags, &args);
    if (s == KL_OK && blis) {
        if (op->blis) op->blis(&args, 0, d[0]); /* one thread splits nothing */
        else s = KL_EUNSUPPORTED;
    } else if (s == KL_OK) {
        s = kl_op_call(v, &args);
    }
    kl_op_args_free(&args);
    if (s != KL_OK) {
        fprintf(stderr, "kl_workload %s/%s %td %td %td: %s\n", pos[0], name, d[0], d[1], d[2],
                kl_status_str(s));
        return 1;
    }
    return 0;
}
