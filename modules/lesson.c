#define _GNU_SOURCE /* readlink, posix_spawn, mkstemp */
#include "lesson.h"

#include <errno.h>
#include <math.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int report_call(kl_status s, kl_op op, const char *variant);

/* A failure the student acts on: no lesson.c location, the file to edit instead. */
static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("    ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    return 1;
}

static const char *source_of(kl_op op, const char *variant) {
    const kl_variant *v = kl_variant_find(op, variant);
    return v && v->source ? v->source : "kernels/";
}

/* 0 when the call ran and reached no stub. Otherwise says what to write, and where: a stub
 * reached in another file is a rung this one depends on. */
int kl_lesson_report(kl_op op, const char *variant, kl_status s) { return report_call(s, op, variant); }

static int report_call(kl_status s, kl_op op, const char *variant) {
    const char *stub = kl_stub_reached(), *own = source_of(op, variant);
    if (stub) {
        size_t len = strlen(own);
        if (strncmp(stub, own, len) == 0 && stub[len] == ':')
            return say("%s/%s: not implemented yet: write %s", kl_op_name(op), variant, stub);
        return say("%s/%s: not implemented yet: it depends on %s, which is not written yet "
                   "(write that first, then %s)", kl_op_name(op), variant, stub, own);
    }
    if (s == KL_OK) return 0;
    if (s == KL_EUNSUPPORTED && kl_variant_available(kl_variant_find(op, variant)))
        return say("%s/%s: not implemented yet (returns KL_EUNSUPPORTED): write %s",
                   kl_op_name(op), variant, own);
    return say("%s/%s returned %s (%s)", kl_op_name(op), variant, kl_status_str(s), own);
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
    if (!fail) {
        kl_stub_reset();
        kl_status st = kl_op_call(v, &a);
        fail = report_call(st, o, variant);
    }
    if (!fail) {
        ptrdiff_t where;
        double worst = kl_op_check(&a, 0, &where);
        if (!(worst <= 1.0))
            fail = say("%s%s%s: wrong result, error %.3g x tolerance at flat index %td (edit %s)", what,
                       c && c->pad ? " (padded rows)" : "",
                       c && c->drop_optional ? " (optional inputs NULL)" : "", worst, where,
                       source_of(o, variant));
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

int kl_lesson_implemented(const char *op_name, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                          ptrdiff_t d2) {
    const kl_op_desc *op = kl_op_desc_named(op_name);
    const kl_variant *v = op ? kl_variant_find(op->op, variant) : NULL;
    const ptrdiff_t d[3] = {d0, d1, d2};
    kl_op_args a;
    if (!v) return !say("%s/%s: no such rung", op_name, variant);
    if (kl_op_args_alloc(op, d, 0, 1, 0, &a) != KL_OK) return !say("%s/%s: out of memory", op_name, variant);
    kl_stub_reset();
    kl_status s = kl_op_call(v, &a);
    int fail = report_call(s, op->op, variant);
    kl_op_args_free(&a);
    return !fail;
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
        kl_stub_reset();
        for (int r = 0; r < reps && ok; r++) {
            double start = kl_lesson_now();
            ok = kl_op_call(v, &a) == KL_OK;
            t[r] = kl_lesson_now() - start;
        }
        if (ok && !kl_stub_reached()) {
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
static kl_lesson_own_workload g_own_workload;

void kl_lesson_set_own_workload(kl_lesson_own_workload fn) { g_own_workload = fn; }

static int run_workload(char **argv) {
    const kl_op_desc *op = kl_op_desc_named(argv[0]);
    if (strcmp(argv[0], "own") == 0 && g_own_workload) { /* the lesson's own loop */
        ptrdiff_t d[3];
        for (int i = 0; i < 3; i++) d[i] = (ptrdiff_t)strtoll(argv[2 + i], NULL, 10);
        int rc = g_own_workload(argv[1], d[0], d[1], d[2]);
        if (rc) fprintf(stderr, "--workload own %s failed\n", argv[1]);
        return rc ? 1 : 0;
    }
    if (!op) {
        fprintf(stderr, "--workload: unknown op '%s'\n", argv[0]);
        return 2;
    }
    const kl_variant *v = kl_variant_find(op->op, argv[1]);
    ptrdiff_t d[3];
    for (int i = 0; i < 3; i++) d[i] = (ptrdiff_t)strtoll(argv[2 + i], NULL, 10);
    kl_op_args a;
    kl_status s = !v ? KL_ENOTFOUND : kl_op_args_alloc(op, d, 0, 1, 0, &a);
    kl_stub_reset();
    if (s == KL_OK) s = kl_op_call(v, &a);
    if (s == KL_OK && kl_stub_reached()) s = KL_EUNSUPPORTED; /* a stub left its mark */
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
    long long peak = -2; /* the workload failed: not -1, which callers take as "no valgrind" */
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

/* ---- figures: a measure cell's numbers (JSON) and its picture (PNG) ------------------ */

void kl_json_add(kl_json *j, const char *fmt, ...) {
    if (j->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = j->cap - j->len;
        int n = vsnprintf(j->text ? j->text + j->len : NULL, j->text ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            j->failed = 1;
            return;
        }
        if (j->text && (size_t)n < room) {
            j->len += (size_t)n;
            return;
        }
        size_t cap = (j->cap ? 2 * j->cap : 1024) + (size_t)n;
        char *t = realloc(j->text, cap);
        if (!t) {
            j->failed = 1;
            return;
        }
        j->text = t, j->cap = cap;
    }
}

void kl_json_num(kl_json *j, double x) {
    if (isfinite(x)) kl_json_add(j, "%.6g", x);
    else kl_json_add(j, "null");
}

/* The folder beside this binary where figures go: <dir of /proc/self/exe>/results. */
static int results_dir(char *out, size_t size) {
    char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = '\0';
    char *slash = strrchr(self, '/');
    if (!slash) return -1;
    *slash = '\0';
    if ((size_t)snprintf(out, size, "%s/results", self) >= size) return -1;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static const char *g_current_test; /* grade_id of the test running now, for figures */

#ifndef KL_SOURCE_ROOT
#define KL_SOURCE_ROOT "."
#endif

int kl_lesson_figure(const char *name, kl_json *j) {
    char dir[4096], json[4200], tmp[4300], png[4200], script[4096];
    int rc = -1;
    if (j->failed || !j->text || results_dir(dir, sizeof dir) != 0) {
        printf("    (figure %s not written: %s)\n", name, j->failed ? "out of memory" : "no results folder");
        goto out;
    }
    snprintf(json, sizeof json, "%s/%s.json", dir, name);
    snprintf(png, sizeof png, "%s/%s.png", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.json.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    /* {"cell": GRADE_ID, ...}: the cell that drew it, where scripts/render puts the figure */
    const size_t skip = j->text[0] == '{' && g_current_test ? 1 : 0;
    if (f && skip) fprintf(f, "{\"cell\": \"%s\", ", g_current_test);
    if (!f || fwrite(j->text + skip, 1, j->len - skip, f) != j->len - skip ||
        fputc('\n', f) == EOF) {
        if (f) fclose(f);
        unlink(tmp);
        printf("    (figure %s not written: cannot write %s)\n", name, tmp);
        goto out;
    }
    if (fclose(f) != 0 || rename(tmp, json) != 0) {
        unlink(tmp);
        printf("    (figure %s not written: cannot write %s)\n", name, json);
        goto out;
    }
    rc = 0;
    snprintf(script, sizeof script, "%s/scripts/course/plot.py", KL_SOURCE_ROOT);
    char *args[] = {"/usr/bin/python3", script, json, png, NULL};
    pid_t pid;
    int status = -1;
    fflush(stdout);
    if (access(script, R_OK) == 0 && access(args[0], X_OK) == 0 &&
        posix_spawn(&pid, args[0], NULL, NULL, args, environ) == 0 && waitpid(pid, &status, 0) == pid &&
        WIFEXITED(status) && WEXITSTATUS(status) == 0)
        printf("    figure: %s (numbers: %s)\n", png, json);
    else
        printf("    numbers: %s (no picture: /usr/bin/python3 %s did not draw it)\n", json, script);
out:
    free(j->text);
    j->text = NULL, j->len = j->cap = 0;
    return rc;
}

static void size_text(char *out, size_t n, size_t bytes) {
    if (bytes >= ((size_t)1 << 20) && bytes % ((size_t)1 << 20) == 0) snprintf(out, n, "%zu MiB", bytes >> 20);
    else snprintf(out, n, "%zu KiB", bytes >> 10);
}

void kl_lesson_machine(char *out, size_t size) {
    char l1[32], l2[32], l3[32];
    size_text(l1, sizeof l1, kl_cpu_cache_bytes(1));
    size_text(l2, sizeof l2, kl_cpu_cache_bytes(2));
    size_text(l3, sizeof l3, kl_cpu_cache_bytes(3));
    snprintf(out, size, "%s, %ld CPUs online, L1d %s, L2 %s, L3 %s", kl_isa_name(kl_cpu_isa()),
             sysconf(_SC_NPROCESSORS_ONLN), l1, l2, l3);
}

const char *kl_lesson_level(size_t bytes) {
    if (bytes <= kl_cpu_cache_bytes(1)) return "L1";
    if (bytes <= kl_cpu_cache_bytes(2)) return "L2";
    if (bytes <= kl_cpu_cache_bytes(3)) return "L3";
    return "DRAM";
}

static int cmp_seconds(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Called through a volatile pointer: a copy into memory freed unread is dead code to the
 * compiler, which may delete it (and then "measure" nothing). */
static void *(*volatile g_copy)(void *, const void *, size_t) = memcpy;

double kl_lesson_memcpy_seconds(size_t floats, int reps) {
    /* 64-byte aligned buffers: glibc's memcpy can lose several times when y sits a few bytes
     * off a 64-byte boundary, and the yardstick must not be handicapped by malloc's choice */
    const size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    float *x = aligned_alloc(64, bytes ? bytes : 64), *y = aligned_alloc(64, bytes ? bytes : 64);
    double *t = malloc(sizeof(double) * (size_t)(reps > 0 ? reps : 1)), med = NAN;
    if (x && y && t && reps > 0) {
        for (size_t i = 0; i < floats; i++) x[i] = (float)(i % 7), y[i] = 0.0f;
        for (int r = 0; r < reps; r++) {
            double a = kl_lesson_now();
            g_copy(y, x, sizeof(float) * floats);
            t[r] = kl_lesson_now() - a;
        }
        qsort(t, (size_t)reps, sizeof *t, cmp_seconds);
        med = t[reps / 2];
    }
    free(x), free(y), free(t);
    return med;
}

void kl_lesson_stream_sets(size_t ws[3]) {
    const size_t l2 = kl_cpu_cache_bytes(2), l3 = kl_cpu_cache_bytes(3);
    const size_t l3_max = (size_t)16 << 20, dram_min = (size_t)64 << 20, dram_max = (size_t)128 << 20;
    size_t mid = l3 / 2 < l3_max ? l3 / 2 : l3_max;
    if (mid < 2 * l2) mid = 2 * l2;
    size_t dram = 4 * l3 < dram_min ? dram_min : 4 * l3 > dram_max ? dram_max : 4 * l3;
    ws[0] = l2 / 2, ws[1] = mid, ws[2] = dram;
}

double kl_lesson_peak_gflops(const char *isa) {
    char dir[4096], path[4200], text[8192], key[64];
    if (results_dir(dir, sizeof dir) != 0) return NAN;
    snprintf(path, sizeof path, "%s/../../00_roofline/results/roofline.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return NAN;
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    /* the file is lesson 00's own output: {"label": "avx2", "gflops": 118.2} in "peaks" */
    snprintf(key, sizeof key, "{\"label\": \"%s\", \"gflops\": ", isa);
    const char *at = strstr(text, key);
    if (!at) return NAN;
    char *end;
    double v = strtod(at + strlen(key), &end);
    return end != at + strlen(key) && isfinite(v) && v > 0 ? v : NAN;
}

/* Under TAP everything the lesson prints is a TAP comment ("# ..."), so meson reads only the
 * "ok"/"not ok" lines, which go straight to the real standard output (tap_line). */
static int g_tap_line_start = 1;

static ssize_t tap_comment_write(void *cookie, const char *buf, size_t n) {
    (void)cookie;
    for (size_t done = 0; done < n;) {
        if (g_tap_line_start && write(STDOUT_FILENO, "# ", 2) != 2) return -1;
        g_tap_line_start = 0;
        const char *nl = memchr(buf + done, '\n', n - done);
        size_t len = nl ? (size_t)(nl - (buf + done)) + 1 : n - done;
        ssize_t w = write(STDOUT_FILENO, buf + done, len);
        if (w <= 0) return -1;
        done += (size_t)w;
        g_tap_line_start = nl && (size_t)w == len;
    }
    return (ssize_t)n;
}

static void tap_begin(void) {
    fflush(stdout);
    cookie_io_functions_t io = {NULL, tap_comment_write, NULL, NULL};
    FILE *f = fopencookie(NULL, "w", io);
    if (f) {
        setvbuf(f, NULL, _IOLBF, 0);
        stdout = f;
    }
}

static void tap_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void tap_line(const char *fmt, ...) {
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fflush(stdout);
    if (n > 0 && write(STDOUT_FILENO, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1) < 0)
        return;
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
    int passed = 0, failed = 0, points = 0, max_points = 0, tap_lines = 0;
    /* meson runs lessons with KL_LESSON_TAP=1 (protocol 'tap'): its one line per lesson then
     * reads "lesson_01_matmul FAIL 12/26 subtests passed", the points earned. */
    const char *tap_env = getenv("KL_LESSON_TAP");
    const int tap = tap_env && strcmp(tap_env, "1") == 0;
    if (tap) tap_begin();
    int *ok = calloc(count ? count : 1, sizeof *ok);
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    printf("%s: %zu tests on this machine: %s\n", module, count, machine);
    /* KL_LESSON_QUICK=1: graded tests only, no 0-point measure cells (course tests use it) */
    const char *quick_env = getenv("KL_LESSON_QUICK");
    const int quick = !only && quick_env && strcmp(quick_env, "1") == 0;
    for (size_t t = 0; t < count; t++) {
        if (only && strcmp(only, tests[t].grade_id) != 0) continue;
        if (quick && tests[t].points == 0) continue;
        fflush(stdout);
        g_current_test = tests[t].grade_id;
        ok[t] = tests[t].run() == 0;
        g_current_test = NULL;
        printf("%s %s (%d pt%s)\n", ok[t] ? "PASS" : "FAIL", tests[t].grade_id, tests[t].points,
               tests[t].points == 1 ? "" : "s");
        if (tap) /* one TAP line per point, so meson's "N/M subtests passed" counts points */
            for (int p = 0; p < (tests[t].points ? tests[t].points : !ok[t]); p++)
                tap_line("%s %d - %s (point %d of %d)\n", ok[t] ? "ok" : "not ok", ++tap_lines,
                       tests[t].grade_id, p + 1, tests[t].points);
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
            if (quick && tests[t].points == 0) continue;
            fprintf(f, "%s\n  {\"grade_id\": \"%s\", \"points\": %d, \"max_points\": %d, \"passed\": %s}",
                    first ? "" : ",", tests[t].grade_id, ok[t] ? tests[t].points : 0,
                    tests[t].points, ok[t] ? "true" : "false");
            first = 0;
        }
        fprintf(f, "\n]}\n");
        fclose(f);
    }
    printf("points: %d/%d\n%d passed, %d failed\n", points, max_points, passed, failed);
    if (tap) tap_line("1..%d\n", tap_lines);
    free(ok);
    return failed && !tap ? 1 : 0; /* under TAP the "not ok" lines carry the failures */
}
