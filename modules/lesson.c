#define _GNU_SOURCE /* readlink, posix_spawn, mkstemp */
#include "lesson.h"

#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ops.h"

extern char **environ;

int kl_lesson_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    return 1;
}

/* ---- inputs shared by the checks, the workload and the timer ------------------------- */

float kl_lesson_uniform(unsigned long long *s) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    return (float)((*s * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 23) - 1.0f;
}

double kl_lesson_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int kl_lesson_valgrind_usable(void) {
#ifdef __SANITIZE_ADDRESS__
    return 0; /* ASan's shadow memory and Valgrind cannot share a process */
#else
    return access("/usr/bin/valgrind", X_OK) == 0;
#endif
}

int kl_lesson_skip_rung(kl_op op, const char *name, int build_optional) {
    const kl_variant *v = kl_variant_find(op, name);
    if (!v) {
        if (!build_optional) return 0;
        printf("    SKIP: %s/%s is not in this build (configured without SIMD or OpenMP)\n",
               kl_op_name(op), name);
        return 1;
    }
    if (!kl_variant_available(v)) {
        printf("    SKIP: CPU lacks %s\n", kl_isa_name(v->isa));
        return 1;
    }
    return 0;
}

/* ---- one call through the op table (kernels/ops/ops.h) ------------------------------- */

/* The lesson's status line for a call that did not return KL_OK. */
static int report_status(kl_status s, const kl_op_desc *op, const char *variant) {
    if (s == KL_OK) return 0;
    if (s == KL_EUNSUPPORTED && kl_variant_available(kl_variant_find(op->op, variant)))
        return KL_FAIL("%s/%s: not implemented yet (returns KL_EUNSUPPORTED)", op->name, variant);
    return KL_FAIL("%s/%s returned %s", op->name, variant, kl_status_str(s));
}

/* Builds the arguments for dims d as c asks; returns 0, or 1 after printing why not. */
static int prepare(const kl_op_desc *op, const ptrdiff_t *d, const kl_lesson_case *c,
                   kl_op_args *a) {
    kl_status s = kl_op_args_alloc(op, d, c ? c->pad : 0, c ? c->seed + 1 : 1, 0, a);
    if (s != KL_OK) return KL_FAIL("%s: buffers for this shape: %s", op->name, kl_status_str(s));
    for (int i = 0; c && i < op->nbufs; i++) {
        const kl_op_buf *b = &op->bufs[i];
        size_t n = kl_op_buf_floats(a, i);
        if (c->shift && b->role == KL_BUF_IN && i == 0)
            kl_op_fill(a, i, c->seed + 2, c->shift - 1.0f, c->shift + 1.0f);
        for (int k = 0; k < 4 && c->nan_in[k]; k++)
            if (strcmp(c->nan_in[k], b->name) == 0 && n > 0) a->buf[i][n / 2] = NAN;
        if (c->drop_optional && (b->flags & KL_BUF_OPTIONAL)) a->buf[i] = NULL;
    }
    for (int j = 0; c && j < c->nparams && j < KL_OP_MAX_PARAMS; j++) {
        int p = kl_op_param_index(op, c->params[j].name);
        if (p < 0) return KL_FAIL("%s has no parameter '%s'", op->name, c->params[j].name);
        a->p[p] = c->params[j].value;
    }
    return 0;
}

int kl_lesson_check_case(kl_op o, const char *variant, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2,
                         const kl_lesson_case *c) {
    const kl_op_desc *op = kl_op_desc_of(o);
    const ptrdiff_t d[3] = {d0, d1, d2};
    char what[160];
    int len = snprintf(what, sizeof what, "%s/%s", op ? op->name : "?", variant);
    for (int j = 0; op && j < op->ndims && len > 0 && (size_t)len < sizeof what; j++)
        len += snprintf(what + len, sizeof what - (size_t)len, " %s=%td", op->dim_names[j], d[j]);
    if (!op) return KL_FAIL("no op %d in the op table", (int)o);
    kl_op_args a;
    int fail = prepare(op, d, c, &a);
    const kl_variant *v = kl_variant_find(o, variant);
    if (!fail && !v) fail = KL_FAIL("%s: no such variant", what);
    if (!fail) fail = report_status(kl_op_call(v, &a), op, variant);
    if (!fail) {
        ptrdiff_t where;
        double worst = kl_op_check(&a, 0, &where);
        if (!(worst <= 1.0))
            fail = KL_FAIL("%s%s%s: wrong result, error %.3g x tolerance at flat index %td", what,
                           c && c->pad ? " (padded rows)" : "",
                           c && c->drop_optional ? " (optional inputs NULL)" : "", worst, where);
    }
    kl_op_args_free(&a);
    return fail;
}

int kl_lesson_check_matmul(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    /* beta 0.5: the lesson's rungs must scale C, not overwrite it */
    const kl_lesson_case c = {.nparams = 1, .params = {{"beta", 0.5f}}};
    return kl_lesson_check_case(KL_OP_MATMUL, variant, m, n, k, &c);
}

int kl_lesson_check_relu(const char *variant, ptrdiff_t n) {
    return kl_lesson_check_case(KL_OP_RELU, variant, n, 0, 0, NULL);
}

int kl_lesson_check_layernorm(const char *variant, ptrdiff_t rows, ptrdiff_t cols, float row_mean) {
    const kl_lesson_case c = {.shift = row_mean};
    return kl_lesson_check_case(KL_OP_LAYERNORM, variant, rows, cols, 0, &c);
}

/* ---- measuring ----------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double kl_lesson_median_seconds(const char *op_name, const char *variant, ptrdiff_t d0,
                                ptrdiff_t d1, ptrdiff_t d2, int reps) {
    const kl_op_desc *op = kl_op_desc_named(op_name);
    const kl_variant *v = op ? kl_variant_find(op->op, variant) : NULL;
    const ptrdiff_t d[3] = {d0, d1, d2};
    kl_op_args a;
    double median = NAN, *t = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1));
    if (v && t && reps > 0 && kl_op_args_alloc(op, d, 0, 1, KL_ARGS_NO_INITIAL, &a) == KL_OK) {
        int ok = 1;
        for (int r = 0; r < reps && ok; r++) {
            double start = kl_lesson_now();
            ok = kl_op_call(v, &a) == KL_OK;
            t[r] = kl_lesson_now() - start;
        }
        if (ok) {
            qsort(t, (size_t)reps, sizeof *t, cmp_double);
            median = t[reps / 2];
        }
    }
    if (op) kl_op_args_free(&a);
    free(t);
    return median;
}

/* One call and nothing else (what Massif profiles): the op's buffers and the copies of its
 * in-out buffers a check needs (matmul: A, B, C and C0), as kl_lesson_workload_bytes says. */
static int run_workload(char **argv) {
    const kl_op_desc *op = kl_op_desc_named(argv[0]);
    if (!op) {
        fprintf(stderr, "--workload: unknown op '%s'\n", argv[0]);
        return 2;
    }
    const kl_variant *v = kl_variant_find(op->op, argv[1]);
    ptrdiff_t d[3];
    for (int i = 0; i < 3; i++) d[i] = (ptrdiff_t)strtoll(argv[2 + i], NULL, 10);
    kl_op_args a;
    kl_status s = !v ? KL_ENOTFOUND : kl_op_args_alloc(op, d, 0, 1, 0, &a);
    if (s == KL_OK) s = kl_op_call(v, &a);
    if (v) kl_op_args_free(&a);
    if (s != KL_OK) fprintf(stderr, "--workload %s/%s: %s\n", argv[0], argv[1], kl_status_str(s));
    return s == KL_OK ? 0 : 1;
}

size_t kl_lesson_workload_bytes(const char *op_name, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2) {
    const kl_op_desc *op = kl_op_desc_named(op_name);
    const ptrdiff_t d[3] = {d0, d1, d2};
    return op ? kl_op_args_bytes(op, d, 0) : 0;
}

long long kl_lesson_massif_peak(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                                ptrdiff_t d2) {
    if (!kl_lesson_valgrind_usable()) return -1;
    char self[4096], out[] = "/tmp/kl_massif_XXXXXX", outarg[64], dims[3][32];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    int fd = mkstemp(out);
    if (len <= 0 || fd < 0) return -1;
    self[len] = '\0';
    close(fd);
    snprintf(outarg, sizeof outarg, "--massif-out-file=%s", out);
    ptrdiff_t dv[3] = {d0, d1, d2};
    for (int i = 0; i < 3; i++) snprintf(dims[i], sizeof dims[i], "%td", dv[i]);
    char *args[] = {"valgrind", "--tool=massif", "--quiet", outarg, self, "--workload",
                    (char *)op, (char *)variant, dims[0], dims[1], dims[2], NULL};
    pid_t pid;
    int status = -1;
    long long peak = -1;
    if (posix_spawn(&pid, "/usr/bin/valgrind", NULL, NULL, args, environ) == 0 &&
        waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        FILE *f = fopen(out, "r");
        char line[256];
        while (f && fgets(line, sizeof line, f)) {
            long long v;
            if (sscanf(line, "mem_heap_B=%lld", &v) == 1 && v > peak) peak = v;
        }
        if (f) fclose(f);
    }
    unlink(out);
    return peak;
}

/* ---- the runner ---------------------------------------------------------------------- */

int kl_lesson_main(int argc, char **argv, const char *module, const kl_lesson_test *tests,
                   size_t count) {
    const char *only = NULL, *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--workload") == 0 && argc - i == 6)
            return run_workload(argv + i + 1);
        if (strcmp(argv[i], "--list") == 0) {
            for (size_t t = 0; t < count; t++) printf("%s %d\n", tests[t].grade_id, tests[t].points);
            return 0;
        }
        if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
        else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) json = argv[++i];
        else {
            fprintf(stderr,
                    "usage: %s [--list] [--only GRADE_ID] [--json FILE] "
                    "[--workload OP VARIANT D0 D1 D2]\n", argv[0]);
            return 2;
        }
    }
    int passed = 0, failed = 0, points = 0, max_points = 0;
    int *ok = calloc(count ? count : 1, sizeof *ok);
    printf("%s: %zu tests on %s\n", module, count, kl_isa_name(kl_cpu_isa()));
    for (size_t t = 0; t < count; t++) {
        if (only && strcmp(only, tests[t].grade_id) != 0) continue;
        fflush(stdout);
        ok[t] = tests[t].run() == 0;
        printf("%s %s (%d pt%s)\n", ok[t] ? "PASS" : "FAIL", tests[t].grade_id, tests[t].points,
               tests[t].points == 1 ? "" : "s");
        ok[t] ? passed++ : failed++;
        points += ok[t] ? tests[t].points : 0;
        max_points += tests[t].points;
    }
    if (only && passed + failed == 0) {
        fprintf(stderr, "%s: no test with grade_id '%s' (try --list)\n", module, only);
        free(ok);
        return 2;
    }
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            fprintf(stderr, "%s: cannot write %s\n", module, json);
            free(ok);
            return 2;
        }
        fprintf(f, "{\"module\": \"%s\", \"tests\": [", module);
        int first = 1;
        for (size_t t = 0; t < count; t++) {
            if (only && strcmp(only, tests[t].grade_id) != 0) continue;
            fprintf(f, "%s\n  {\"grade_id\": \"%s\", \"points\": %d, \"max_points\": %d, \"passed\": %s}",
                    first ? "" : ",", tests[t].grade_id, ok[t] ? tests[t].points : 0,
                    tests[t].points, ok[t] ? "true" : "false");
            first = 0;
        }
        fprintf(f, "\n]}\n");
        fclose(f);
    }
    printf("points: %d/%d\n%d passed, %d failed\n", points, max_points, passed, failed);
    free(ok);
    return failed ? 1 : 0;
}
