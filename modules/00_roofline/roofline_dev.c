/* Lesson 00: this machine's ceilings and its roofline. Percent cells: see modules/README.md. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pthread, clock_gettime, aligned_alloc */
#endif
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lesson.h"

// %% [markdown]
// # Module 00: Roofline
//
// **Learning objectives:**
// - Measure this machine's two ceilings yourself: how many floating-point operations per
//   second its cores can do (the FMA peak, per instruction set and thread count), and how
//   many bytes per second it can move at each level of the memory hierarchy (L1, L2, L3, DRAM).
// - Build the roofline from those numbers and compute its ridge point.
// - Place a kernel on it from its arithmetic intensity, and predict whether it is limited by
//   compute or by memory before you write a single optimisation.
// - Understand why every later lesson reports "% of peak" and "% of the copy roof", never
//   raw speed alone.

// %% [markdown]
// ## Part 1: Foundations
//
// A kernel does `F` floating-point operations and moves `Q` bytes between memory and the core.
// Its **arithmetic intensity** is `I = F / Q` (flop per byte). A machine has a compute ceiling
// `P` (GFLOP/s) and a bandwidth ceiling `B` (GB/s) for the level of memory the data lives in.
// The kernel can go no faster than either allows:
//
//     attainable(I) = min(P, I * B)          GFLOP/s
//
// Plotted on log-log axes this is a slanted line (memory-bound) meeting a flat one
// (compute-bound) at the **ridge point** `I* = P / B`. A kernel left of the ridge is
// memory-bound: only moving fewer bytes helps. Right of it, only better use of the FMA units does.
//
// Both ceilings must be *measured*, not read from a spec sheet: the clock, the cache sizes,
// the VM and the other programs on the machine all move them.
//
// - **FMA peak.** One fused multiply-add `c = c*a + b` is 2 flop. A core issues a few per
//   cycle, each taking ~4 cycles of latency, so reaching the peak needs many *independent*
//   chains in flight (latency x pipes). A scalar instruction works on 1 float, AVX2 on 8,
//   AVX-512 on 16: the ISA multiplies the peak.
// - **Copy bandwidth.** Copying `S` bytes reads `S` and writes `S`: we count `2 S` bytes. The
//   working set (source + destination) decides which level serves it: half of L1 stays in
//   L1, half of L2 in L2, and so on; several times L3 must come from DRAM.

// %% [markdown]
// ## Part 2: The compute ceiling
//
// Each kernel below runs `KL_CHAINS` independent multiply-add chains for `iters` steps and
// returns the flops it did. The scalar one is given; it uses an empty `asm` statement to keep
// each chain in its own register, so the compiler cannot turn it into vector code behind our
// back. Each ISA's function is compiled for that ISA only (`__attribute__((target(...)))`),
// and only called when `kl_cpu_isa()` says the CPU has it: one binary runs everywhere.
//
// Write `fma_avx2` (8 floats per register, `_mm256_fmadd_ps`) and `fma_avx512` (16 floats,
// `_mm512_fmadd_ps`), each with `KL_CHAINS` accumulators, each returning the flops it did
// (2 per lane per FMA). Give each accumulator its own variable: an array of accumulators
// indexed in a loop may be kept on the stack, and then every FMA waits for a store and a
// load (try it, and look at `objdump -d`: the peak drops several times). `fma_avx512` is
// only run where the CPU has AVX-512; elsewhere its test line says so.

// %% [code] {"grade_id": "fma_kernels", "points": 0, "solution": true}
#define KL_CHAINS 12 /* >= FMA latency (4) x FMA pipes (2), with room */

static double fma_scalar(long iters, float *sink) {
    /* Twelve named accumulators (not an array: an array may live on the stack). */
    float c0 = 0, c1 = .01f, c2 = .02f, c3 = .03f, c4 = .04f, c5 = .05f, c6 = .06f, c7 = .07f,
          c8 = .08f, c9 = .09f, c10 = .1f, c11 = .11f;
    const float m = 0.9999f, a = 1e-4f; /* converges to a / (1 - m) = 1: no overflow */
    for (long i = 0; i < iters; i++) {
        c0 = c0 * m + a, c1 = c1 * m + a, c2 = c2 * m + a, c3 = c3 * m + a;
        c4 = c4 * m + a, c5 = c5 * m + a, c6 = c6 * m + a, c7 = c7 * m + a;
        c8 = c8 * m + a, c9 = c9 * m + a, c10 = c10 * m + a, c11 = c11 * m + a;
        __asm__ volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5),
                         "+x"(c6), "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
    }
    *sink = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
    return 2.0 * KL_CHAINS * (double)iters;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(long iters, float *sink) {
    /* BEGIN SOLUTION */
    const __m256 m = _mm256_set1_ps(0.9999f); /* c -> c m + a converges to a / (1 - m) = 1 */
    const __m256 a = _mm256_set1_ps(1e-4f);
    __m256 c0 = _mm256_set1_ps(0.00f), c1 = _mm256_set1_ps(0.01f), c2 = _mm256_set1_ps(0.02f),
           c3 = _mm256_set1_ps(0.03f), c4 = _mm256_set1_ps(0.04f), c5 = _mm256_set1_ps(0.05f),
           c6 = _mm256_set1_ps(0.06f), c7 = _mm256_set1_ps(0.07f), c8 = _mm256_set1_ps(0.08f),
           c9 = _mm256_set1_ps(0.09f), c10 = _mm256_set1_ps(0.10f), c11 = _mm256_set1_ps(0.11f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm256_fmadd_ps(c0, m, a), c1 = _mm256_fmadd_ps(c1, m, a);
        c2 = _mm256_fmadd_ps(c2, m, a), c3 = _mm256_fmadd_ps(c3, m, a);
        c4 = _mm256_fmadd_ps(c4, m, a), c5 = _mm256_fmadd_ps(c5, m, a);
        c6 = _mm256_fmadd_ps(c6, m, a), c7 = _mm256_fmadd_ps(c7, m, a);
        c8 = _mm256_fmadd_ps(c8, m, a), c9 = _mm256_fmadd_ps(c9, m, a);
        c10 = _mm256_fmadd_ps(c10, m, a), c11 = _mm256_fmadd_ps(c11, m, a);
    }
    __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c1), _mm256_add_ps(c2, c3)),
                             _mm256_add_ps(_mm256_add_ps(c4, c5), _mm256_add_ps(c6, c7)));
    s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(c8, c9), _mm256_add_ps(c10, c11)));
    float lanes[8];
    _mm256_storeu_ps(lanes, s);
    *sink = lanes[0] + lanes[7];
    return 2.0 * 8 * KL_CHAINS * (double)iters;
    /* END SOLUTION */
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))) static double
fma_avx512(long iters, float *sink) {
    /* BEGIN SOLUTION */
    const __m512 m = _mm512_set1_ps(0.9999f); /* c -> c m + a converges to a / (1 - m) = 1 */
    const __m512 a = _mm512_set1_ps(1e-4f);
    __m512 c0 = _mm512_set1_ps(0.00f), c1 = _mm512_set1_ps(0.01f), c2 = _mm512_set1_ps(0.02f),
           c3 = _mm512_set1_ps(0.03f), c4 = _mm512_set1_ps(0.04f), c5 = _mm512_set1_ps(0.05f),
           c6 = _mm512_set1_ps(0.06f), c7 = _mm512_set1_ps(0.07f), c8 = _mm512_set1_ps(0.08f),
           c9 = _mm512_set1_ps(0.09f), c10 = _mm512_set1_ps(0.10f), c11 = _mm512_set1_ps(0.11f);
    for (long i = 0; i < iters; i++) {
        c0 = _mm512_fmadd_ps(c0, m, a), c1 = _mm512_fmadd_ps(c1, m, a);
        c2 = _mm512_fmadd_ps(c2, m, a), c3 = _mm512_fmadd_ps(c3, m, a);
        c4 = _mm512_fmadd_ps(c4, m, a), c5 = _mm512_fmadd_ps(c5, m, a);
        c6 = _mm512_fmadd_ps(c6, m, a), c7 = _mm512_fmadd_ps(c7, m, a);
        c8 = _mm512_fmadd_ps(c8, m, a), c9 = _mm512_fmadd_ps(c9, m, a);
        c10 = _mm512_fmadd_ps(c10, m, a), c11 = _mm512_fmadd_ps(c11, m, a);
    }
    __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(c0, c1), _mm512_add_ps(c2, c3)),
                             _mm512_add_ps(_mm512_add_ps(c4, c5), _mm512_add_ps(c6, c7)));
    s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(c8, c9), _mm512_add_ps(c10, c11)));
    *sink = _mm512_reduce_add_ps(s);
    return 2.0 * 16 * KL_CHAINS * (double)iters;
    /* END SOLUTION */
}

// %% [markdown]
// ### Measuring the peak, and testing it
//
// The measurement runs the kernel on `t` threads at once (one per core), takes the best of
// several trials (a shared machine only ever makes us *slower*, so the fastest trial is the
// least disturbed), and divides the flops by the wall time. The trials of the different
// ISAs are interleaved in rounds, so a burst of load from another program slows all of
// them alike instead of making one ISA look slower than it is.

// %% [code] {"grade_id": "test_fma_peaks", "points": 3, "locked": true}
typedef double (*fma_fn)(long, float *);
typedef struct { fma_fn fn; long iters; double flops; float sink; } fma_job;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *fma_thread(void *p) {
    fma_job *j = p;
    j->flops = j->fn(j->iters, &j->sink);
    return NULL;
}

/* GFLOP/s of fn on `threads` threads: best of TRIALS. */
static double fma_gflops(fma_fn fn, int threads) {
    enum { MAX_T = 8, TRIALS = 3 };
    const long iters = 1L << 20; /* a few ms per trial */
    fma_job jobs[MAX_T];
    pthread_t tid[MAX_T];
    double best = 0;
    if (threads > MAX_T) threads = MAX_T;
    for (int trial = 0; trial < TRIALS; trial++) {
        double t0 = now_seconds(), flops = 0;
        for (int i = 0; i < threads; i++) jobs[i] = (fma_job){fn, iters, 0, 0};
        for (int i = 1; i < threads; i++) pthread_create(&tid[i], NULL, fma_thread, &jobs[i]);
        fma_thread(&jobs[0]);
        for (int i = 1; i < threads; i++) pthread_join(tid[i], NULL);
        double dt = now_seconds() - t0;
        for (int i = 0; i < threads; i++) flops += jobs[i].flops;
        if (dt > 0 && flops / dt * 1e-9 > best) best = flops / dt * 1e-9;
    }
    return best;
}

/* The machine's ceilings, measured once and shared by every test. */
typedef struct {
    int threads[2];               /* the thread counts measured: 1 and (if >= 2 cores) 2 */
    int nthreads;
    double fma[KL_ISA_COUNT][2];  /* GFLOP/s; 0 where the CPU lacks the ISA */
    size_t ws[4];                 /* copy working sets: L1, L2, L3, DRAM */
    double bw[4];                 /* GB/s, 1 thread */
    int measured_fma, measured_bw;
    const char *fma_stub, *bw_stub; /* a student stub the measurement reached, or NULL */
} ceilings;
static ceilings g_ceil;
static const char *const kLevel[4] = {"L1", "L2", "L3", "DRAM"};

static void measure_fma(void) {
    if (g_ceil.measured_fma) return;
    static const fma_fn fns[KL_ISA_COUNT] = {fma_scalar, fma_avx2, fma_avx512};
    kl_stub_reset();
    g_ceil.threads[0] = 1, g_ceil.nthreads = 1;
    if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) g_ceil.threads[g_ceil.nthreads++] = 2;
    for (int round = 0; round < 3; round++) /* interleaved: see above */
        for (int isa = 0; isa <= (int)kl_cpu_isa(); isa++)
            for (int t = 0; t < g_ceil.nthreads; t++) {
                double g = fma_gflops(fns[isa], g_ceil.threads[t]);
                if (g > g_ceil.fma[isa][t]) g_ceil.fma[isa][t] = g;
            }
    printf("    FMA peak, GFLOP/s (best of 9 trials in 3 rounds)\n    %-8s", "isa");
    for (int t = 0; t < g_ceil.nthreads; t++) printf(" %9d thr", g_ceil.threads[t]);
    printf("\n");
    for (int isa = 0; isa <= (int)kl_cpu_isa(); isa++) {
        printf("    %-8s", kl_isa_name((kl_isa)isa));
        for (int t = 0; t < g_ceil.nthreads; t++) printf(" %13.1f", g_ceil.fma[isa][t]);
        printf("\n");
    }
    g_ceil.measured_fma = 1;
    g_ceil.fma_stub = kl_stub_reached();
}

static int finite_positive(double x) { return isfinite(x) && x > 0; }

static void fma_figure(void) {
    kl_json j = {0};
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json_add(&j, "{\"kind\": \"bars\", \"title\": \"FMA peak (GFLOP/s) by ISA and threads\", "
                "\"machine\": \"%s\", \"ylabel\": \"GFLOP/s\", \"reference\": null, \"bars\": [", machine);
    int first = 1;
    for (int isa = 0; isa <= (int)kl_cpu_isa(); isa++)
        for (int t = 0; t < g_ceil.nthreads; t++) {
            kl_json_add(&j, "%s{\"label\": \"%s, %d thr\", \"value\": ", first ? "" : ", ",
                        kl_isa_name((kl_isa)isa), g_ceil.threads[t]);
            kl_json_num(&j, g_ceil.fma[isa][t]);
            kl_json_add(&j, "}");
            first = 0;
        }
    kl_json_add(&j, "]}");
    kl_lesson_figure("fma_peaks", &j);
}

static int test_fma_peaks(void) {
    measure_fma();
    if (g_ceil.fma_stub) return KL_FAIL("not implemented yet: write %s", g_ceil.fma_stub);
    for (int isa = 0; isa <= (int)kl_cpu_isa(); isa++)
        for (int t = 0; t < g_ceil.nthreads; t++)
            if (!finite_positive(g_ceil.fma[isa][t]))
                return KL_FAIL("FMA peak %s, %d thread(s) = %g GFLOP/s: not positive and finite%s",
                               kl_isa_name((kl_isa)isa), g_ceil.threads[t], g_ceil.fma[isa][t],
                               g_ceil.fma[isa][t] == 0 ? " (not implemented yet?)" : "");
    fma_figure();
    if (kl_cpu_isa() < KL_ISA_AVX2) {
        printf("    SKIP the AVX2 > scalar check: this CPU has no AVX2+FMA\n");
        return 0;
    }
    double s = g_ceil.fma[KL_ISA_SCALAR][0], v = g_ceil.fma[KL_ISA_AVX2][0];
    if (!(v > s))
        return KL_FAIL("AVX2 peak %.1f GFLOP/s is not above the scalar peak %.1f: 8 lanes per "
                       "instruction should win by several times", v, s);
    printf("    AVX2 / scalar = %.1fx (8 lanes, and FMA counts 2 flop per instruction)\n", v / s);
    return 0;
}

// %% [markdown]
// ## Part 3: The bandwidth ceilings
//
// `copy_gbps` copies half of a working set into the other half, `passes` times, and reports
// `2 * bytes * passes / seconds` (read + write), best of several trials. The first copy is
// not timed: it brings the pages in (a page fault costs far more than a cache miss).
//
// The copy is a plain vector load/store loop (given), not `memcpy`: for copies larger than
// a fraction of L3, glibc's `memcpy` switches to non-temporal stores that bypass the caches,
// so an "L3-sized" memcpy really measures DRAM writes. The benchmark harness times both and
// takes the faster as each level's roof.
//
// Write the timing loop of `copy_gbps`.

// %% [code] {"grade_id": "copy_bandwidth", "points": 0, "solution": true}
typedef void (*copy_fn)(float *restrict dst, const float *restrict src, size_t n);

__attribute__((target("avx2"))) static void copy_avx2(float *restrict d, const float *restrict s,
                                                      size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(s + i), b = _mm256_loadu_ps(s + i + 8);
        __m256 c = _mm256_loadu_ps(s + i + 16), e = _mm256_loadu_ps(s + i + 24);
        _mm256_storeu_ps(d + i, a), _mm256_storeu_ps(d + i + 8, b);
        _mm256_storeu_ps(d + i + 16, c), _mm256_storeu_ps(d + i + 24, e);
    }
    for (; i < n; i++) d[i] = s[i];
}

static void copy_sse(float *restrict d, const float *restrict s, size_t n) {
    size_t i = 0; /* SSE2 is in every x86-64 CPU */
    for (; i + 16 <= n; i += 16) {
        __m128 a = _mm_loadu_ps(s + i), b = _mm_loadu_ps(s + i + 4);
        __m128 c = _mm_loadu_ps(s + i + 8), e = _mm_loadu_ps(s + i + 12);
        _mm_storeu_ps(d + i, a), _mm_storeu_ps(d + i + 4, b);
        _mm_storeu_ps(d + i + 8, c), _mm_storeu_ps(d + i + 12, e);
    }
    for (; i < n; i++) d[i] = s[i];
}

/* The widest copy loop this CPU runs. */
__attribute__((unused)) static copy_fn best_copy(void) {
    return kl_cpu_isa() >= KL_ISA_AVX2 ? copy_avx2 : copy_sse;
}

static double copy_gbps(size_t ws_bytes) {
    /* BEGIN SOLUTION */
    const copy_fn copy = best_copy();
    size_t half = ws_bytes / 2 / 64 * 64, n = half / sizeof(float);
    size_t passes = ((size_t)256 << 20) / half; /* ~256 MiB copied per trial */
    if (passes < 2) passes = 2;
    float *src = aligned_alloc(64, half), *dst = aligned_alloc(64, half);
    double best = 0;
    if (src && dst) {
        memset(src, 0, half);
        copy(dst, src, n);
        for (int trial = 0; trial < 3; trial++) {
            double t0 = now_seconds();
            for (size_t p = 0; p < passes; p++) {
                copy(dst, src, n);
                __asm__ volatile("" : : "r"(dst) : "memory"); /* each copy must happen */
            }
            double dt = now_seconds() - t0;
            double gbps = 2.0 * (double)half * (double)passes / dt * 1e-9;
            if (dt > 0 && gbps > best) best = gbps;
        }
    }
    free(src), free(dst);
    return best;
    /* END SOLUTION */
}

// %% [markdown]
// ### Testing the bandwidth ceilings
//
// The cache sizes come from `kl_cpu_cache_bytes` (sysfs for cpu0, else sysconf, whose L3 is
// wrong on some VMs). Working sets: half of L1, half of L2, and for DRAM `4 x L3`, kept
// between 64 and 128 MiB. L3 is shared by every core (and, on a shared machine, by everyone
// else's programs), so its working set is the larger of `2 x L2` and `L3 / 8` (at most
// 32 MiB): clearly beyond L2, small enough to stay resident while others use the rest. The
// caps keep the lesson quick where sysfs reports a whole socket's L3; the table prints which
// level each set really fits in on this machine. The levels are
// measured in three interleaved rounds, best kept, for the same reason as the FMA peaks.
// Each deeper level should be no faster than the one above it. We allow a **10 % tolerance**
// per step: two neighbouring levels can be close (L1 and L2 on some cores), and on a shared
// machine one measurement can lose a few percent.

// %% [code] {"grade_id": "test_bandwidth_ordered", "points": 3, "locked": true}
/* What the kernels size their blocks by: Linux sysfs for cpu0, else sysconf, else a default. */
static size_t cache_bytes(int level) { return kl_cpu_cache_bytes(level); }

/* Adds three interleaved rounds to the best-so-far of each level (noise only lowers a copy's
 * speed, so more rounds can only bring each level closer to its true ceiling). */
static size_t clamp_size(size_t v, size_t lo, size_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Working sets, capped so the lesson stays quick on any machine: sysfs may report a whole
 * socket's L3 (hundreds of MiB), and 4 x that would be gigabytes copied per trial. */
#define KL_L3_WS_MAX ((size_t)32 << 20)
#define KL_DRAM_WS_MIN ((size_t)64 << 20)
#define KL_DRAM_WS_MAX ((size_t)128 << 20)

static void working_sets(size_t ws[4]) {
    size_t l1 = cache_bytes(1), l2 = cache_bytes(2), l3 = cache_bytes(3);
    ws[0] = l1 / 2, ws[1] = l2 / 2;
    ws[2] = clamp_size(2 * l2 > l3 / 8 ? 2 * l2 : l3 / 8, 2 * l2, KL_L3_WS_MAX);
    ws[3] = clamp_size(4 * l3, KL_DRAM_WS_MIN, KL_DRAM_WS_MAX);
}

static void measure_bw_rounds(void) {
    size_t ws[4];
    working_sets(ws);
    for (int round = 0; round < 3; round++)
        for (int l = 0; l < 4; l++) {
            double b = copy_gbps(ws[l]);
            g_ceil.ws[l] = ws[l];
            if (b > g_ceil.bw[l]) g_ceil.bw[l] = b;
        }
}

static void print_bw(void) {
    printf("    copy bandwidth, 1 thread, GB/s (read + write, best of the rounds)\n");
    for (int l = 0; l < 4; l++)
        printf("    %-5s working set %9zu KiB (fits in %-4s) %8.1f GB/s\n", kLevel[l],
               g_ceil.ws[l] >> 10, kl_lesson_level(g_ceil.ws[l]), g_ceil.bw[l]);
    if (strcmp(kl_lesson_level(g_ceil.ws[3]), "DRAM") != 0)
        printf("    note: this machine reports an L3 of %zu MiB; the DRAM set is capped at %zu MiB "
               "to keep the lesson quick, so part of it may be served by L3\n",
               cache_bytes(3) >> 20, KL_DRAM_WS_MAX >> 20);
}

static void bandwidth_figure(void) {
    kl_json j = {0};
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json_add(&j, "{\"kind\": \"bars\", \"title\": \"Copy bandwidth, 1 thread (GB/s, read + write)\", "
                "\"machine\": \"%s\", \"ylabel\": \"GB/s\", \"reference\": null, \"bars\": [", machine);
    for (int l = 0; l < 4; l++) {
        kl_json_add(&j, "%s{\"label\": \"%s (%zu KiB)\", \"value\": ", l ? ", " : "", kLevel[l],
                    g_ceil.ws[l] >> 10);
        kl_json_num(&j, g_ceil.bw[l]);
        kl_json_add(&j, "}");
    }
    kl_json_add(&j, "]}");
    kl_lesson_figure("bandwidth", &j);
}

static void measure_bw(void) {
    if (g_ceil.measured_bw) return;
    kl_stub_reset();
    measure_bw_rounds();
    print_bw();
    g_ceil.measured_bw = 1;
    g_ceil.bw_stub = kl_stub_reached();
}

#define KL_BW_TOLERANCE 0.10 /* a deeper level may measure up to 10 % above the one above it */

/* The first pair of levels out of order (deeper faster by more than the tolerance), or -1. */
static int first_misordered(void) {
    for (int l = 0; l + 1 < 4; l++)
        if (g_ceil.bw[l] < (1.0 - KL_BW_TOLERANCE) * g_ceil.bw[l + 1]) return l;
    return -1;
}


static int test_bandwidth_ordered(void) {
    measure_bw();
    if (g_ceil.bw_stub) return KL_FAIL("not implemented yet: write %s", g_ceil.bw_stub);
    for (int l = 0; l < 4; l++)
        if (!finite_positive(g_ceil.bw[l]))
            return KL_FAIL("%s bandwidth = %g GB/s: not positive and finite%s", kLevel[l],
                           g_ceil.bw[l], g_ceil.bw[l] == 0 ? " (not implemented yet?)" : "");
#ifdef __SANITIZE_ADDRESS__
    /* ASan checks every load and store, so a cache-resident copy is bound by those checks and
     * the levels' order says nothing about the memory system. */
    printf("    SKIP ordering: sanitizer build (instrumented copies are compute-bound)\n");
    return 0;
#endif
    /* A loaded machine can slow one level during its rounds: measure again before judging. */
    for (int retry = 0; retry < 3 && first_misordered() >= 0; retry++) {
        printf("    levels out of order: measuring three more rounds\n");
        measure_bw_rounds();
        print_bw();
    }
    int l = first_misordered();
    if (l >= 0)
        return KL_FAIL("%s (%.1f GB/s) is more than %.0f%% slower than %s (%.1f GB/s): "
                       "deeper memory cannot be faster (is the working set right?)",
                       kLevel[l], g_ceil.bw[l], 100 * KL_BW_TOLERANCE, kLevel[l + 1],
                       g_ceil.bw[l + 1]);
    printf("    L1 / DRAM = %.1fx: the same copy, only the distance to the data differs\n",
           g_ceil.bw[0] / g_ceil.bw[3]);
    bandwidth_figure();
    return 0;
}

// %% [markdown]
// ## Part 4: The roofline and its ridge point
//
// Write the two functions every later lesson uses to judge a kernel: the ridge point
// `P / B` and the attainable performance `min(P, I * B)`.

// %% [code] {"grade_id": "roofline_model", "points": 0, "solution": true}
static double roofline_ridge(double peak_gflops, double bw_gbps) {
    /* BEGIN SOLUTION */
    return peak_gflops / bw_gbps;
    /* END SOLUTION */
}

static double roofline_attainable(double intensity, double peak_gflops, double bw_gbps) {
    /* BEGIN SOLUTION */
    double memory_bound = intensity * bw_gbps;
    return memory_bound < peak_gflops ? memory_bound : peak_gflops;
    /* END SOLUTION */
}

// %% [markdown]
// ### Testing the roofline
//
// The ridge point is checked against the measured numbers at every memory level, and the
// roof against its definition: below the ridge it is `I * B`, above it `P`, and the two
// pieces meet at the ridge.

// %% [code] {"grade_id": "test_ridge_point", "points": 2, "locked": true}
static int close_to(double a, double b) { return fabs(a - b) <= 1e-9 * fabs(b); }

static int test_ridge_point(void) {
    measure_fma();
    measure_bw();
    if (g_ceil.fma_stub || g_ceil.bw_stub)
        return KL_FAIL("not implemented yet: it depends on %s (the ceilings above)",
                       g_ceil.fma_stub ? g_ceil.fma_stub : g_ceil.bw_stub);
    kl_stub_reset();
    roofline_attainable(roofline_ridge(1, 1), 1, 1);
    if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
    kl_isa top = kl_cpu_isa();
    double peak = g_ceil.fma[top][0];
    printf("    ridge points for %s, 1 thread (peak %.1f GFLOP/s):\n", kl_isa_name(top), peak);
    for (int l = 0; l < 4; l++) {
        double bw = g_ceil.bw[l], ridge = roofline_ridge(peak, bw);
        if (!finite_positive(peak) || !finite_positive(bw))
            return KL_FAIL("ceilings missing (peak %g, %s bandwidth %g): fix the tests above first",
                           peak, kLevel[l], bw);
        if (!close_to(ridge, peak / bw))
            return KL_FAIL("%s: ridge %g flop/B, expected peak / bandwidth = %g", kLevel[l],
                           ridge, peak / bw);
        double below = roofline_attainable(ridge / 4, peak, bw);
        double above = roofline_attainable(ridge * 4, peak, bw);
        double at = roofline_attainable(ridge, peak, bw);
        if (!close_to(below, ridge / 4 * bw) || !close_to(above, peak) || !close_to(at, peak))
            return KL_FAIL("%s: attainable(I*/4, I*, 4 I*) = (%g, %g, %g), expected (%g, %g, %g)",
                           kLevel[l], below, at, above, ridge / 4 * bw, peak, peak);
        printf("    %-5s %7.1f GB/s  ridge %7.2f flop/B\n", kLevel[l], bw, ridge);
    }
    return 0;
}

// %% [markdown]
// ## Part 5: Placing kernels on the roofline
//
// The intensity that matters first is the *compulsory* one: each input read once, each
// output written once, nothing re-read. For float32:
//
// - matmul `n x n x n`: `2 n^3` flop over `3 n^2` floats (A, B read, C written): `I = n / 6`.
//   It grows with `n`, so a big matmul can be compute-bound, *if* the kernel reuses data
//   from cache the way the compulsory count assumes (a triple loop does not: lesson 01).
// - ReLU over `n` floats: `n` max operations over `8 n` bytes: `I = 1/8`, whatever `n`.
//
// Write both intensity functions.

// %% [code] {"grade_id": "kernel_intensity", "points": 0, "solution": true}
static double matmul_intensity(double n) {
    /* BEGIN SOLUTION */
    return 2.0 * n * n * n / (4.0 * 3.0 * n * n);
    /* END SOLUTION */
}

static double relu_intensity(void) {
    /* BEGIN SOLUTION */
    return 1.0 / 8.0;
    /* END SOLUTION */
}

// %% [markdown]
// ### Testing the placement
//
// The test checks both functions, then places a kernel of this lesson's own on *your*
// roofline and measures where it lands (printed and plotted, never graded: a shared
// machine's timings vary). The kernel evaluates a polynomial of degree `d` at every float of
// an array, by Horner's rule: `2 d` flop for the 8 bytes it moves (read x, write y), so
// `I = d / 4` flop/B, and `d = 1/2` would be ReLU's intensity. Sweeping `d` walks the kernel
// from the slanted roof to the flat one, once on an array that stays in L2 and once on one
// that must come from DRAM. Lessons 01 and 02 place matmul and ReLU themselves.
//
// The figure `results/roofline.png` (beside the lesson binary) draws your measured roofs
// and these points; `scripts/render --results build` puts it into this lesson.

// %% [code] {"grade_id": "test_place_kernels", "points": 2, "locked": true}
enum { POLY_BLOCK = 64 }; /* floats evaluated together: the inner loop vectorises */

/* y[i] = p(x[i]) for a degree-d polynomial with all coefficients c: 2 d flop per float.
 * The degree loop runs over a block held in registers, so memory sees x once and y once. */
#define POLY_BODY                                                                           \
    size_t i0 = 0;                                                                          \
    for (; i0 + POLY_BLOCK <= n; i0 += POLY_BLOCK) { /* a fixed trip count: vectorised */   \
        float acc[POLY_BLOCK];                                                              \
        for (int i = 0; i < POLY_BLOCK; i++) acc[i] = c;                                    \
        for (int k = 0; k < d; k++)                                                         \
            for (int i = 0; i < POLY_BLOCK; i++) acc[i] = acc[i] * x[i0 + i] + c;           \
        for (int i = 0; i < POLY_BLOCK; i++) y[i0 + i] = acc[i];                            \
    }                                                                                       \
    for (; i0 < n; i0++) {                                                                  \
        float acc = c;                                                                      \
        for (int k = 0; k < d; k++) acc = acc * x[i0] + c;                                  \
        y[i0] = acc;                                                                        \
    }

static void poly_plain(size_t n, const float *restrict x, float *restrict y, int d, float c) {
    POLY_BODY
}

__attribute__((target("avx2,fma"))) static void poly_avx2(size_t n, const float *restrict x,
                                                          float *restrict y, int d, float c) {
    POLY_BODY
}

typedef void (*poly_fn)(size_t, const float *restrict, float *restrict, int, float);

static poly_fn best_poly(void) { return kl_cpu_isa() >= KL_ISA_AVX2 ? poly_avx2 : poly_plain; }

/* GFLOP/s of degree d over n floats: best of 5 timed calls after one warm-up. */
static double poly_gflops(size_t n, int d) {
    float *x = aligned_alloc(64, n * sizeof(float)), *y = aligned_alloc(64, n * sizeof(float));
    double best = 0;
    if (x && y) {
        unsigned long long seed = 42;
        for (size_t i = 0; i < n; i++) x[i] = 0.5f * kl_lesson_uniform(&seed);
        poly_fn f = best_poly();
        f(n, x, y, d, 0.25f);
        for (int r = 0; r < 5; r++) {
            double t0 = now_seconds();
            f(n, x, y, d, 0.25f);
            __asm__ volatile("" : : "r"(y) : "memory");
            double dt = now_seconds() - t0, g = 2.0 * d * (double)n / dt * 1e-9;
            if (dt > 0 && g > best) best = g;
        }
    }
    free(x), free(y);
    return best;
}

/* The roofline figure: this machine's roofs (1 thread) and the polynomial's points. */
static void roofline_figure(const char *const names[2], const int *degrees,
                            int nd, double g[2][8]) {
    kl_json j = {0};
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json_add(&j, "{\"kind\": \"roofline\", \"title\": \"Roofline, 1 thread, with the "
                "degree-d polynomial (I = d/4 flop/B)\", \"machine\": \"%s\", \"peaks\": [", machine);
    for (int isa = 0; isa <= (int)kl_cpu_isa(); isa++) {
        kl_json_add(&j, "%s{\"label\": \"%s\", \"gflops\": ", isa ? ", " : "", kl_isa_name((kl_isa)isa));
        kl_json_num(&j, g_ceil.fma[isa][0]);
        kl_json_add(&j, "}");
    }
    kl_json_add(&j, "], \"bandwidths\": [");
    for (int l = 0; l < 4; l++) {
        kl_json_add(&j, "%s{\"label\": \"%s\", \"gbps\": ", l ? ", " : "", kLevel[l]);
        kl_json_num(&j, g_ceil.bw[l]);
        kl_json_add(&j, "}");
    }
    kl_json_add(&j, "], \"points\": [");
    for (int s = 0, first = 1; s < 2; s++)
        for (int k = 0; k < nd; k++, first = 0) {
            kl_json_add(&j, "%s{\"label\": \"%s d=%d\", \"intensity\": %g, \"gflops\": ",
                        first ? "" : ", ", names[s], degrees[k], degrees[k] / 4.0);
            kl_json_num(&j, g[s][k]);
            kl_json_add(&j, "}");
        }
    kl_json_add(&j, "]}");
    kl_lesson_figure("roofline", &j);
}

static int test_place_kernels(void) {
    kl_stub_reset();
    double mi192 = matmul_intensity(192), mi6 = matmul_intensity(6), ri = relu_intensity();
    if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
    if (!close_to(mi192, 32.0) || !close_to(mi6, 1.0))
        return KL_FAIL("matmul_intensity(192) = %g, (6) = %g; expected 32 and 1 flop/B", mi192, mi6);
    if (!close_to(ri, 0.125)) return KL_FAIL("relu_intensity() = %g; expected 1/8 flop/B", ri);
    measure_fma();
    measure_bw();
    kl_isa top = kl_cpu_isa();
    double peak = g_ceil.fma[top][0], dram = g_ceil.bw[3];
    if (g_ceil.fma_stub || g_ceil.bw_stub)
        return KL_FAIL("not implemented yet: it depends on %s (the ceilings above)",
                       g_ceil.fma_stub ? g_ceil.fma_stub : g_ceil.bw_stub);
    if (!finite_positive(peak) || !finite_positive(dram))
        return KL_FAIL("ceilings missing (peak %g, DRAM %g): fix the tests above first", peak, dram);
    double ridge = roofline_ridge(peak, dram);
    if (!(ri < ridge))
        return KL_FAIL("ReLU (I = 1/8) should sit left of the DRAM ridge (%g flop/B)", ridge);
    if (!(matmul_intensity(1024) > ridge))
        return KL_FAIL("a 1024 matmul (I = %g) should sit right of the DRAM ridge (%g flop/B)",
                       matmul_intensity(1024), ridge);

    /* Build -> Measure -> Understand: the polynomial at four intensities, two working sets. */
    static const int degrees[] = {1, 4, 16, 64};
    enum { ND = sizeof degrees / sizeof degrees[0] };
    size_t ws[4];
    working_sets(ws);
    size_t sets[2] = {ws[1] / 8, ws[3] / 8}; /* floats: x + y = the L2 and DRAM sets */
#ifdef __SANITIZE_ADDRESS__
    sets[1] = sets[1] < ((size_t)2 << 20) ? sets[1] : (size_t)2 << 20; /* instrumented: keep it short */
#endif
    const char *const names[2] = {kl_lesson_level(8 * sets[0]), kl_lesson_level(8 * sets[1])};
    const int bws[2] = {1, 3};
    double g[2][8];
    printf("    polynomial of degree d, %s kernel, 1 thread:\n", top >= KL_ISA_AVX2 ? "avx2" : "scalar");
    printf("    %-18s %5s %9s %10s %10s\n", "working set", "d", "I flop/B", "GFLOP/s", "% of roof");
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < ND; k++) {
            double I = degrees[k] / 4.0, roof_isa = g_ceil.fma[top >= KL_ISA_AVX2 ? KL_ISA_AVX2 : KL_ISA_SCALAR][0];
            g[s][k] = poly_gflops(sets[s], degrees[k]);
            double roof = roofline_attainable(I, roof_isa, g_ceil.bw[bws[s]]);
            printf("    %-4s %9zu KiB %5d %9.2f %10.2f %9.0f%%\n", names[s], 8 * sets[s] >> 10,
                   degrees[k], I, g[s][k], 100 * g[s][k] / roof);
        }
    printf("    (roof: min(%s peak, I x the %s and %s copy bandwidths measured above))\n",
           top >= KL_ISA_AVX2 ? "avx2" : "scalar", kLevel[1], kLevel[3]);
    roofline_figure(names, degrees, ND, g);
    return 0;
}

// %% [markdown]
// ### Two threads
//
// Every later lesson has an OpenMP rung, judged against the two-thread ceilings. Compute
// scales with cores; on a shared machine it may not, and the test only asks that the
// two-thread peak was measured. Compare the columns in the table printed above.

// %% [code] {"grade_id": "test_fma_threads", "points": 1, "locked": true}
static int test_fma_threads(void) {
    measure_fma();
    if (g_ceil.fma_stub) return KL_FAIL("not implemented yet: write %s", g_ceil.fma_stub);
    if (g_ceil.nthreads < 2) {
        printf("    SKIP: one core online, no two-thread ceiling\n");
        return 0;
    }
    kl_isa top = kl_cpu_isa();
    double one = g_ceil.fma[top][0], two = g_ceil.fma[top][1];
    if (!finite_positive(two))
        return KL_FAIL("two-thread %s peak = %g GFLOP/s", kl_isa_name(top), two);
    printf("    %s: 2 threads / 1 thread = %.2fx (2.0 on two idle cores)\n", kl_isa_name(top),
           two / one);
    return 0;
}

// %% [markdown]
// ## Memory profiling
//
// A roofline counts bytes *moved*; Massif counts bytes *held* on the heap. They answer
// different questions, and a kernel must pass both: the polynomial over `n` floats moves
// `8 n` bytes and should hold exactly `8 n` (x and y) with no hidden temporary. The cell runs
// one call of it in this very binary (`--workload own poly n 0 0`) under
// `valgrind --tool=massif` and checks the peak against `8 n` plus 64 KiB for the C runtime.
// (The copy benchmark above holds a whole working set, up to 128 MiB: measuring DRAM needs
// memory.) This test runs no code of yours: it is the profiling method, for the later lessons
// to apply to your kernels.

// %% [code] {"grade_id": "test_memory_relu", "points": 1, "locked": true, "student_code": false}
/* `--workload own poly n 0 0`: allocate x and y, one degree-1 call, free. */
static int own_workload(const char *name, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2) {
    (void)d1, (void)d2;
    if (strcmp(name, "poly") != 0 || d0 <= 0) return 1;
    size_t n = (size_t)d0;
    float *x = calloc(n, sizeof(float)), *y = calloc(n, sizeof(float));
    if (x && y) best_poly()(n, x, y, 1, 0.25f);
    int rc = x && y ? 0 : 1;
    free(x), free(y);
    return rc;
}

static int test_memory_relu(void) {
    const ptrdiff_t n = (ptrdiff_t)1 << 16;
    const long long expect = 8LL * n, allowance = 64 << 10;
    long long peak = kl_lesson_massif_peak("own", "poly", n, 0, 0);
    if (peak == -1) {
        printf("    SKIP: Valgrind is not installed, or this is a sanitizer build\n");
        return 0;
    }
    if (peak < 0) return KL_FAIL("the Massif run of the polynomial failed");
    printf("    polynomial n=%td: Massif peak %lld bytes, x + y = %lld bytes\n", n, peak, expect);
    if (peak < expect || peak > expect + allowance)
        return KL_FAIL("peak %lld bytes, expected %lld .. %lld", peak, expect, expect + allowance);
    return 0;
}

// %% [markdown]
// ## Complexity
//
// - The FMA measurement is `O(iters x chains x threads)` work on `O(chains)` registers: no
//   memory traffic at all, which is exactly why it shows the compute ceiling.
// - A copy of `S` bytes is `O(S)` time and needs `2 S` bytes of memory; its *speed* depends
//   only on where those bytes live, not on any flop count.
// - Intensity is what separates the kernels of this course: matmul's `n/6` grows with the
//   problem (`O(n^3)` work on `O(n^2)` data), ReLU's and LayerNorm's stay constant (`O(n)`
//   work on `O(n)` data). No amount of SIMD makes a constant-intensity kernel compute-bound.

// %% [markdown]
// ## Production context
//
// - BLIS and OpenBLAS choose their block sizes (MC, KC, NC) from exactly these cache sizes,
//   and their micro-kernels are written to reach the FMA peak measured here; lesson 01 does
//   the same. oneDNN and cuDNN publish rooflines for their kernels; NVIDIA Nsight Compute
//   and Intel Advisor draw one for every kernel they profile.
// - PyTorch fuses elementwise ops (ReLU, bias, LayerNorm) into their neighbours (torch.compile,
//   custom CUDA kernels) precisely because their intensity is constant: fusing removes the
//   memory round trip, which is the only thing that made them slow.
// - `scripts/bench.sh` measures these ceilings again in every benchmark run, and the report
//   gives each kernel as a fraction of the roof it is under, so a number is never judged alone.

// %% [code] {"grade_id": "run_all_tests", "points": 0, "locked": true}
int main(int argc, char **argv) {
    static const kl_lesson_test tests[] = {
        {"test_fma_peaks", 3, test_fma_peaks},
        {"test_bandwidth_ordered", 3, test_bandwidth_ordered},
        {"test_ridge_point", 2, test_ridge_point},
        {"test_place_kernels", 2, test_place_kernels},
        {"test_fma_threads", 1, test_fma_threads},
        {"test_memory_relu", 1, test_memory_relu},
    };
    kl_lesson_set_own_workload(own_workload);
    return kl_lesson_main(argc, argv, "00_roofline", tests, sizeof tests / sizeof tests[0]);
}

// %% [markdown]
// ## ML systems thinking
//
// Answer each question in the cell after it: a few sentences, with numbers this lesson
// measured on your machine. These answers are graded by hand (2 points each).
//
// 1. Your measured AVX2 peak is some multiple of the scalar one. Is it 8x, 16x, or neither?
//    Account for the lanes, for FMA counting 2 flop, and for how many scalar operations per
//    cycle the core can issue.
// 2. A LayerNorm over rows of 768 floats reads x, writes y, and does ~8 flop per element.
//    Where does it sit on your roofline for L2-sized and DRAM-sized inputs? What would you
//    optimise first, and what would be wasted effort?
// 3. The naive matmul's compulsory intensity at n = 256 is ~43 flop/B, far right of the
//    ridge, yet it reaches a few percent of peak. Which assumption of the compulsory count
//    does the triple loop break? (Count the bytes it really reads for one row of C.)
// 4. Two threads gave you some speedup on compute and some on bandwidth. On a 64-core server
//    which one stops scaling first, and what does that mean for a memory-bound kernel's
//    OpenMP rung?
// 5. Why does the report divide each result by a ceiling measured *in the same run*, instead
//    of using the vendor's datasheet numbers?

// %% [markdown] {"grade_id": "answer_roofline_q1", "points": 2, "grade": true, "solution": true}
// **Answer 1** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_roofline_q2", "points": 2, "grade": true, "solution": true}
// **Answer 2** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_roofline_q3", "points": 2, "grade": true, "solution": true}
// **Answer 3** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_roofline_q4", "points": 2, "grade": true, "solution": true}
// **Answer 4** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_roofline_q5", "points": 2, "grade": true, "solution": true}
// **Answer 5** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown]
// ## Summary
//
// - You measured the two ceilings that bound every kernel on this machine: the FMA peak per
//   instruction set and thread count, and the copy bandwidth at L1, L2, L3 and DRAM.
// - The roofline `min(P, I * B)` and its ridge `P / B` turn those numbers into a prediction:
//   from a kernel's arithmetic intensity alone you know which ceiling it can hit.
// - Matmul's intensity grows with `n` (compute-bound if the code reuses cache); ReLU's is
//   1/8 flop/B forever (memory-bound: only fewer bytes, or fusion, help).
// - Massif showed that bytes held and bytes moved are different budgets.
// - Next: lesson 01 climbs the matmul ladder toward the FMA peak you measured here.
