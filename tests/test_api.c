/* API suite: status strings, registry consistency, thread settings, dispatch fallback
 * (run a second time with KL_ISA=scalar), and concurrent calls from two pthreads. */
#include "test_util.h"

#include <math.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const kl_op ops[] = {KL_OP_MATMUL, KL_OP_RELU, KL_OP_LAYERNORM, KL_OP_LINEAR_RELU, KL_OP_ADD};
#define N_OPS (int)(sizeof ops / sizeof ops[0])

static void group_status(void) {
    tu_group g;
    tu_begin_op(&g, "api", "status_str");
    const kl_status all[] = {KL_OK, KL_EINVAL, KL_ENOMEM, KL_EUNSUPPORTED, KL_ENOTFOUND,
                             KL_ETHREADS};
    for (int i = 0; i < 6; i++) {
        const char *s = kl_status_str(all[i]);
        tu_check(&g, s && *s, "kl_status_str(%d) is NULL or empty", (int)all[i]);
        for (int j = 0; j < i && s; j++) {
            const char *t = kl_status_str(all[j]);
            tu_check(&g, !t || strcmp(s, t) != 0, "statuses %d and %d share \"%s\"", i, j, s);
        }
    }
    tu_end(&g);
}

/* Every row well formed; names unique per op; find/names/best agree with the table. */
static void group_registry(void) {
    tu_group g;
    tu_begin_op(&g, "api", "registry");
    size_t count = kl_variant_count();
    tu_check(&g, kl_variant_at(count) == NULL, "kl_variant_at(count) is not NULL");
    for (size_t i = 0; i < count; i++) {
        const kl_variant *v = kl_variant_at(i);
        int ok = v && (unsigned)v->op < KL_OP_COUNT && v->name && *v->name && v->rung &&
                 v->source && (unsigned)v->isa < KL_ISA_COUNT && (v->threaded == 0 || v->threaded == 1);
        if (!tu_check(&g, ok, "row %zu is malformed", i)) continue;
        for (size_t j = 0; j < i; j++) {
            const kl_variant *w = kl_variant_at(j);
            tu_check(&g, w->op != v->op || strcmp(w->name, v->name) != 0,
                     "%s/%s registered twice (rows %zu, %zu)", kl_op_name(v->op), v->name, j, i);
        }
        tu_check(&g, kl_variant_find(v->op, v->name) == v, "find(%s, %s) is not row %zu",
                 kl_op_name(v->op), v->name, i);
        tu_check(&g, v->isa <= kl_cpu_isa() || !kl_variant_available(v),
                 "%s/%s needs %s but is available on %s", kl_op_name(v->op), v->name,
                 kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()));
        if (v->blocking) { /* tile edges: positive, and no more than it says */
            ptrdiff_t b[64];
            size_t nb = v->blocking(b, 64);
            for (size_t k = 0; k < nb && k < 64; k++)
                tu_check(&g, b[k] >= 1, "%s/%s tile edge %zu is %td", kl_op_name(v->op), v->name, k, b[k]);
        }
    }
    for (int o = 0; o < N_OPS; o++) {
        const char *names[64], *sentinel = "sentinel";
        for (int i = 0; i < 64; i++) names[i] = sentinel;
        size_t n = kl_variant_names(ops[o], names, 64), k = 0;
        const kl_variant *last = NULL;
        for (size_t i = 0; i < count; i++) { /* the available rows of op, in table order */
            const kl_variant *v = kl_variant_at(i);
            if (v->op != ops[o] || !kl_variant_available(v)) continue;
            tu_check(&g, k < n && k < 64 && strcmp(names[k], v->name) == 0,
                     "%s names[%zu] is not %s", kl_op_name(ops[o]), k, v->name);
            last = v, k++;
        }
        tu_check(&g, n == k, "%s: kl_variant_names says %zu, table has %zu available",
                 kl_op_name(ops[o]), n, k);
        tu_check(&g, n >= 64 || names[n] == sentinel, "%s: names written past the count", kl_op_name(ops[o]));
        const kl_variant *best = kl_best_variant(ops[o]);
        tu_check(&g, best == last && (!best || kl_variant_available(best)),
                 "%s: best is %s, want the last available (%s)", kl_op_name(ops[o]),
                 best ? best->name : "NULL", last ? last->name : "NULL");
        tu_check(&g, n == 0 || kl_variant_names(ops[o], names, 1) == n,
                 "%s: names count depends on cap", kl_op_name(ops[o]));
        tu_check(&g, kl_variant_names(ops[o], NULL, 0) == n, "%s: names(NULL, 0) != count", kl_op_name(ops[o]));
        tu_check(&g, !kl_variant_find(ops[o], "no-such-variant") && !kl_variant_find(ops[o], NULL),
                 "%s: find of an unknown or NULL name is not NULL", kl_op_name(ops[o]));
        tu_check(&g, strcmp(kl_op_name(ops[o]), (const char *[]){"matmul", "relu", "layernorm", "linear_relu", "add"}[o]) == 0,
                 "kl_op_name(%d) = %s", o, kl_op_name(ops[o]));
    }
    tu_check(&g, strcmp(kl_isa_name(KL_ISA_SCALAR), "scalar") == 0 && strcmp(kl_isa_name(KL_ISA_AVX2), "avx2") == 0 &&
             strcmp(kl_isa_name(KL_ISA_AVX512), "avx512") == 0, "kl_isa_name spellings");
    tu_end(&g);
}

static void group_threads(void) {
    tu_group g;
    tu_begin_op(&g, "api", "threads");
    int before = kl_get_num_threads();
    tu_check(&g, before >= 1, "default threads %d < 1", before);
    kl_status s = kl_set_num_threads(-1);
    tu_check(&g, s == KL_EINVAL && kl_get_num_threads() == before,
             "set(-1): status=%s, threads now %d (was %d)", kl_status_str(s), kl_get_num_threads(), before);
    s = kl_set_num_threads(3);
    tu_check(&g, s == KL_OK && kl_get_num_threads() == 3, "set(3): status=%s, get=%d",
             kl_status_str(s), kl_get_num_threads());
    s = kl_set_num_threads(0);
    tu_check(&g, s == KL_OK && kl_get_num_threads() == before, "set(0): status=%s, get=%d, want %d",
             kl_status_str(s), kl_get_num_threads(), before);
    /* the documented maximum: above it, refused and nothing changes */
    s = kl_set_num_threads(KL_MAX_THREADS + 1);
    tu_check(&g, s == KL_EINVAL && kl_get_num_threads() == before, "set(KL_MAX_THREADS + 1): %s",
             kl_status_str(s));
    s = kl_set_num_threads(1000);
    tu_check(&g, s == KL_EINVAL && kl_get_num_threads() == before, "set(1000): %s", kl_status_str(s));
    tu_check(&g, before <= KL_MAX_THREADS, "default %d above KL_MAX_THREADS", before);
    kl_set_num_threads(0);
    tu_end(&g);
}

/* Threads that cannot be started are a status, not the end of the process. In a child with
 * little address space left (a thread's stack cannot be mapped), asking for KL_MAX_THREADS must
 * return KL_ETHREADS, leave the setting alone, and the threaded rungs must still run. ASan
 * reserves terabytes of shadow memory, so there the child cannot limit its address space. */
static void group_thread_failure(void) {
    tu_group g;
    tu_begin_op(&g, "api", "thread start failure");
#ifdef __SANITIZE_ADDRESS__
    printf("SKIP api/* thread start failure: an address-space limit and ASan cannot mix\n");
    tu_check(&g, 1, "skipped");
#else
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        long pages = 0, page = sysconf(_SC_PAGESIZE);
        FILE *f = fopen("/proc/self/statm", "r");
        if (!f || fscanf(f, "%ld", &pages) != 1) _exit(10);
        fclose(f);
        struct rlimit lim = {(rlim_t)pages * (rlim_t)page + (64u << 20),
                             (rlim_t)pages * (rlim_t)page + (64u << 20)};
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(11);
        int before = kl_get_num_threads();
        kl_status s = kl_set_num_threads(KL_MAX_THREADS);
        if (s != KL_ETHREADS) _exit(12);
        if (kl_get_num_threads() != before) _exit(13);
        float x[64], y[64];
        for (int i = 0; i < 64; i++) x[i] = (float)i - 32.0f;
        _exit(kl_relu(64, x, y) == KL_OK && y[0] == 0.0f && y[63] == 31.0f ? 0 : 14);
    }
    int status = 0;
    tu_check(&g, pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait failed");
    tu_check(&g, WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "child: %s %d (10/11: setup; 12: not KL_ETHREADS; 13: setting changed; 14: relu)",
             WIFEXITED(status) ? "exit" : "signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
#endif
    tu_end(&g);
}

/* add's own rules: z may be x or y exactly (in place), any other overlap is refused. */
static void group_add_aliasing(void) {
    tu_group g;
    tu_begin_op(&g, "add", "aliasing");
    float x[37], y[37], z[38];
    for (int i = 0; i < 37; i++) x[i] = 0.25f * (float)i - 3.0f, y[i] = 1.5f - 0.5f * (float)i;
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_ADD || !kl_variant_available(v)) continue;
        float a[37], b[37];
        memcpy(a, x, sizeof a), memcpy(b, y, sizeof b);
        kl_status s1 = kl_add_run(v, 37, a, y, a); /* z = x */
        kl_status s2 = kl_add_run(v, 37, x, b, b); /* z = y */
        int same = 1;
        for (int j = 0; j < 37; j++) same &= a[j] == x[j] + y[j] && b[j] == x[j] + y[j];
        kl_status s3 = kl_add_run(v, 36, z, y, z + 1); /* z overlaps x, shifted */
        tu_check(&g, s1 == KL_OK && s2 == KL_OK && same && s3 == KL_EINVAL,
                 "add/%s: in place %s, %s, exact %d; shifted overlap %s", v->name,
                 kl_status_str(s1), kl_status_str(s2), same, kl_status_str(s3));
    }
    tu_end(&g);
}

/* An empty call (m = 0 or n = 0, n = 0, rows = 0 or cols = 0) returns KL_OK without looking at
 * any pointer, as BLAS does; sizes and leading dimensions are still checked. */
static void group_quick_return(void) {
    tu_group g;
    tu_begin_op(&g, "api", "quick return");
    float dummy[4] = {0};
    for (int o = 0; o < N_OPS; o++) {
        const kl_variant *v = kl_best_variant(ops[o]);
        if (!v) continue;
        kl_status a = KL_OK, b = KL_OK, bad = KL_OK;
        switch (ops[o]) {
        case KL_OP_MATMUL:
            a = kl_matmul_run(v, 0, 5, 7, 1.0f, NULL, 7, NULL, 5, 0.0f, NULL, 5);
            b = kl_matmul_run(v, 5, 0, 7, 1.0f, NULL, 7, NULL, 1, 0.0f, NULL, 1);
            bad = kl_matmul_run(v, 0, 5, 7, 1.0f, NULL, 7, NULL, 4, 0.0f, NULL, 5); /* ldb < n */
            break;
        case KL_OP_LINEAR_RELU:
            a = kl_linear_relu_run(v, 0, 5, 7, NULL, 7, NULL, 5, NULL, NULL, 5);
            b = kl_linear_relu_run(v, 5, 0, 7, NULL, 7, NULL, 1, dummy, NULL, 1);
            bad = kl_linear_relu_run(v, -1, 5, 7, NULL, 7, NULL, 5, NULL, NULL, 5);
            break;
        case KL_OP_RELU:
            a = b = kl_relu_run(v, 0, NULL, NULL);
            bad = kl_relu_run(v, -1, NULL, NULL);
            break;
        case KL_OP_ADD:
            a = b = kl_add_run(v, 0, NULL, NULL, NULL);
            bad = kl_add_run(v, -3, NULL, NULL, NULL);
            break;
        case KL_OP_LAYERNORM:
            a = kl_layernorm_run(v, 0, 9, NULL, NULL, NULL, 1e-5f, NULL, NULL, NULL);
            b = kl_layernorm_run(v, 9, 0, NULL, NULL, NULL, 1e-5f, NULL, NULL, NULL);
            bad = kl_layernorm_run(v, 0, 9, NULL, NULL, NULL, 0.0f, NULL, NULL, NULL); /* eps */
            break;
        default: break;
        }
        tu_check(&g, a == KL_OK && b == KL_OK && bad == KL_EINVAL,
                 "%s/%s: empty calls %s, %s; bad sizes %s", kl_op_name(ops[o]), v->name,
                 kl_status_str(a), kl_status_str(b), kl_status_str(bad));
    }
    tu_end(&g);
}

/* Cache sizes drive every blocking and streaming rule: they must be sane, nested, name their
 * source, and match Linux sysfs when it is there (sysconf's L3 is 8x too big on some VMs). */
static void group_caches(void) {
    tu_group g;
    tu_begin_op(&g, "api", "caches");
    size_t prev = 0;
    for (int level = 1; level <= 3; level++) {
        size_t b = kl_cpu_cache_bytes(level);
        const char *src = kl_cpu_cache_source(level);
        tu_check(&g, b >= 4096 && b <= ((size_t)1 << 31) && b >= prev,
                 "L%d is %zu bytes (L%d was %zu)", level, b, level - 1, prev);
        tu_check(&g, src && (!strcmp(src, "sysfs") || !strcmp(src, "sysconf") || !strcmp(src, "default")),
                 "L%d source \"%s\"", level, src ? src : "(null)");
        prev = b;
        /* sysfs's own answer for this level (index0..: level, type, size like "32768K") */
        for (int i = 0; i < 16; i++) {
            char path[96], type[32] = "", unit = 0;
            int lv = 0;
            unsigned long long v = 0;
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
            FILE *f = fopen(path, "r");
            if (!f) break;
            int ok = fscanf(f, "%d", &lv) == 1;
            fclose(f);
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
            if (ok && (f = fopen(path, "r"))) ok = fscanf(f, "%31s", type) == 1, fclose(f);
            if (!ok || lv != level || !strcmp(type, "Instruction")) continue;
            snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
            if (!(f = fopen(path, "r"))) continue;
            ok = fscanf(f, "%llu%c", &v, &unit) >= 1;
            fclose(f);
            size_t want = (size_t)(v << (unit == 'K' ? 10 : unit == 'M' ? 20 : 0));
            tu_check(&g, !ok || (b == want && !strcmp(src, "sysfs")),
                     "L%d: %zu bytes from %s, sysfs says %zu", level, b, src, want);
            break;
        }
    }
    tu_check(&g, kl_cpu_cache_bytes(0) == 0 && kl_cpu_cache_bytes(4) == 0 &&
                     !strcmp(kl_cpu_cache_source(4), "none"),
             "levels 0 and 4 are not 0 / \"none\"");
    tu_end(&g);
}

/* ---- one small problem per op, checked against the oracle ---- */

typedef struct work {
    int seed, iters;
    int failures;
    const char *why; /* the last failure's reason */
} work;

/* NULL when the call worked; else why not, so a stub says "not implemented yet". */
static const char *verdict(kl_status s, double worst) {
    return s != KL_OK ? kl_status_str(s) : worst <= 1.0 ? NULL : "wrong result";
}

static const char *matmul_problem(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    float *A = malloc(sizeof(float) * (size_t)(m * k + k * n + 2 * m * n));
    float *B = A + m * k, *C = B + k * n, *C0 = C + m * n;
    for (ptrdiff_t i = 0; i < m * k + k * n + m * n; i++) A[i] = (float)((i * 37 % 101) - 50) / 50;
    memcpy(C0, C, sizeof(float) * (size_t)(m * n));
    kl_status s = kl_matmul(m, n, k, 1.5f, A, k, B, n, -0.5f, C, n);
    const char *why =
        verdict(s, s == KL_OK ? kl_check_matmul(m, n, k, 1.5f, A, k, B, n, -0.5f, C0, C, n, NULL) : 0);
    free(A);
    return why;
}

static const char *layernorm_problem(ptrdiff_t rows, ptrdiff_t cols, int seed) {
    float *x = malloc(sizeof(float) * (size_t)(2 * rows * cols + 2 * cols + 2 * rows));
    float *y = x + rows * cols, *ga = y + rows * cols, *be = ga + cols, *mu = be + cols, *rs = mu + rows;
    for (ptrdiff_t i = 0; i < rows * cols; i++) x[i] = (float)((i * 31 + seed) % 97) / 10;
    for (ptrdiff_t c = 0; c < cols; c++) ga[c] = 1 + (float)(c % 5) / 10, be[c] = (float)(c % 3) / 10;
    kl_status s = kl_layernorm(rows, cols, x, ga, be, 1e-5f, y, mu, rs);
    const char *why =
        verdict(s, s == KL_OK ? kl_check_layernorm(rows, cols, x, ga, be, 1e-5f, y, mu, rs, NULL) : 0);
    free(x);
    return why;
}

static const char *relu_problem(ptrdiff_t n) {
    float *x = malloc(sizeof(float) * (size_t)(2 * n));
    for (ptrdiff_t i = 0; i < n; i++) x[i] = (float)(i % 13) - 6;
    kl_status s = kl_relu(n, x, x + n);
    const char *why = verdict(s, s == KL_OK ? kl_check_relu(n, x, x + n, NULL) : 0);
    free(x);
    return why;
}

static void *worker(void *arg) {
    work *w = arg;
    for (int i = 0; i < w->iters; i++) {
        const char *why = matmul_problem(67 + w->seed, 45, 33 + i);
        if (!why) why = layernorm_problem(9, 300 + w->seed, w->seed + i);
        if (why) w->failures++, w->why = why;
    }
    return NULL;
}

static void group_concurrent(void) {
    tu_group g;
    tu_begin_op(&g, "api", "concurrent");
    pthread_t th[2];
    work w[2] = {{1, 20, 0, NULL}, {2, 20, 0, NULL}};
    for (int i = 0; i < 2; i++)
        tu_check(&g, pthread_create(&th[i], NULL, worker, &w[i]) == 0, "pthread_create failed");
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        tu_check(&g, w[i].failures == 0, "thread %d: %d of %d iterations failed, last: %s", i,
                 w[i].failures, w[i].iters, w[i].why ? w[i].why : "-");
    }
    tu_end(&g);
}

/* What the CPU (capped by KL_ISA) lacks is unavailable and returns KL_EUNSUPPORTED without
 * writing; kl_matmul etc. still work through the best available rung. */
/* One small valid call of a training op's row v (inputs in buf[0..32), outputs from y). */
static kl_status training_call(const kl_variant *v, float *buf, float *y) {
    static const int labels[4] = {0, 1, 2, 3};
    switch (v->op) {
    case KL_OP_MATMUL_T: return kl_matmul_t_run(v, 1, 0, 4, 4, 4, 1, buf, 4, buf + 16, 4, 0, y, 4);
    case KL_OP_RELU_BACKWARD: return kl_relu_backward_run(v, 16, buf, buf + 16, y);
    case KL_OP_LAYERNORM_BACKWARD:
        return kl_layernorm_backward_run(v, 4, 4, buf, buf + 16, buf + 20, buf + 24, buf, y,
                                         y + 16, y + 20);
    case KL_OP_BIAS_BACKWARD: return kl_bias_backward_run(v, 4, 4, buf, 4, y);
    case KL_OP_SOFTMAX_XENT: return kl_softmax_xent_run(v, 4, 4, buf, labels, y + 16, y);
    case KL_OP_SGD_MOMENTUM: return kl_sgd_momentum_run(v, 8, 0.1f, 0.9f, 0, y, buf, y + 8);
    default: return KL_EINVAL;
    }
}

static void group_dispatch(void) {
    tu_group g;
    tu_begin_op(&g, "api", "dispatch");
    const char *cap = getenv("KL_ISA");
    printf("INFO cpu isa %s (KL_ISA=%s)\n", kl_isa_name(kl_cpu_isa()), cap ? cap : "unset");
    if (cap && strcmp(cap, "scalar") == 0)
        tu_check(&g, kl_cpu_isa() == KL_ISA_SCALAR, "KL_ISA=scalar but kl_cpu_isa() = %s",
                 kl_isa_name(kl_cpu_isa()));
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->isa <= kl_cpu_isa()) continue;
        tu_check(&g, !kl_variant_available(v), "%s/%s (%s) available", kl_op_name(v->op), v->name,
                 kl_isa_name(v->isa));
        float buf[64], canary[64];
        for (int j = 0; j < 64; j++) buf[j] = canary[j] = (float)j;
        float *y = buf + 32; /* 4 x 4 problems, outputs at buf + 32 */
        kl_status s = v->op == KL_OP_MATMUL
            ? kl_matmul_variant(v->name, 4, 4, 4, 1, buf, 4, buf + 16, 4, 1, y, 4)
            : v->op == KL_OP_RELU ? kl_relu_variant(v->name, 16, buf, y)
            : v->op == KL_OP_LINEAR_RELU
            ? kl_linear_relu_variant(v->name, 4, 4, 4, buf, 4, buf + 16, 4, buf + 28, y, 4)
            : v->op == KL_OP_LAYERNORM
            ? kl_layernorm_variant(v->name, 4, 4, buf, buf + 16, buf + 20, 1e-5f, y, NULL, NULL)
            : training_call(v, buf, y);
        tu_check(&g, s == KL_EUNSUPPORTED && memcmp(buf, canary, sizeof buf) == 0,
                 "%s/%s (%s) on %s: status=%s, want %s; buffers %s", kl_op_name(v->op), v->name,
                 kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()), kl_status_str(s),
                 kl_status_str(KL_EUNSUPPORTED), memcmp(buf, canary, sizeof buf) ? "MODIFIED" : "untouched");
    }
    for (int o = 0; o < N_OPS; o++) {
        const kl_variant *b = kl_best_variant(ops[o]);
        tu_check(&g, b && b->isa <= kl_cpu_isa(), "%s: best variant %s needs %s", kl_op_name(ops[o]),
                 b ? b->name : "NULL", b ? kl_isa_name(b->isa) : "-");
    }
    /* what each rung runs: its own ISA, or (rungs that dispatch) the best the CPU allows */
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (!kl_variant_available(v)) continue;
        kl_isa runs = kl_variant_isa(v), want = v->isa;
        if (v->dispatched_isa && v->op != KL_OP_LINEAR_RELU) want = kl_cpu_isa();
        if (v->op == KL_OP_LINEAR_RELU && v->dispatched_isa)
            want = strcmp(v->name, "unfused") == 0 ? kl_variant_isa(kl_best_variant(KL_OP_MATMUL))
                                                   : kl_cpu_isa();
        tu_check(&g, runs == want && runs >= v->isa && runs <= kl_cpu_isa(),
                 "%s/%s runs %s, want %s (needs %s, CPU %s)", kl_op_name(v->op), v->name,
                 kl_isa_name(runs), kl_isa_name(want), kl_isa_name(v->isa),
                 kl_isa_name(kl_cpu_isa()));
    }
    const char *why = matmul_problem(37, 29, 41);
    tu_check(&g, !why, "kl_matmul 37x29x41: %s", why);
    why = relu_problem(1001);
    tu_check(&g, !why, "kl_relu n=1001: %s", why);
    why = layernorm_problem(5, 777, 3);
    tu_check(&g, !why, "kl_layernorm 5x777: %s", why);
    tu_end(&g);
}

int main(void) {
    group_status();
    group_registry();
    group_threads();
    group_thread_failure();
    group_quick_return();
    group_add_aliasing();
    group_caches();
    group_dispatch();
    group_concurrent();
    return tu_exit_code();
}
