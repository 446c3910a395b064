// %% [markdown]
// # Module 02: ReLU
//
// `y = max(x, 0)`, one element at a time: the simplest kernel in a network, and the purest
// test of a memory system. There is nothing to reuse, so every rung's speed is set by how fast
// bytes move, and the ladder is about getting out of the way of the bandwidth roof.
//
// **Learning objectives:**
// - Build five ReLU rungs (naive, strip-mined, AVX2, AVX-512, OpenMP), in place and out of
//   place, and test each one exactly against the float64 oracle, NaN and -Inf included.
// - Count a ReLU's flops and bytes (1 flop per 8 bytes) and place it on the roofline: far to
//   the left of the ridge, so the bandwidth roof is its only ceiling.
// - Explain why strip-mining (cache blocking) cannot help a kernel without reuse, and measure it.
// - Choose `max` operand order so NaN propagates, and write masked tails that never touch a
//   byte past the end of the array.
// - Decide when to use non-temporal stores and when to wake a second thread, by measuring,
//   and keep those thresholds overridable.
// - Check a kernel's heap use with Valgrind Massif (it should be nothing).
// - Fuse ReLU (and a bias) into a matmul's write-back, the rung where blocking does pay, and
//   measure what the saved round trip of C is worth against matmul followed by a separate pass.

// %% [code]
#define _POSIX_C_SOURCE 200809L /* clock_gettime, access */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lesson.h"
#include "reference.h"

// %% [markdown]
// ## Part 1: Foundations
//
// ### Flops and bytes
// Each element costs one comparison (count it as 1 flop) and moves 8 bytes: 4 read from x,
// 4 written to y. So **arithmetic intensity = 1/8 flop/byte**, whatever n is. (Out of place
// with ordinary stores it is worse: the CPU first reads each line of y it is about to
// overwrite, a "read for ownership", so 12 bytes move per element.)
//
// ### The roof
// On the roofline (Module 00), a kernel at intensity I runs at most at min(peak, I × bandwidth).
// A core with two 8-wide FMA pipes does 32 flop/cycle; at 1/8 flop/byte it would need 256
// bytes per cycle to get there, and a typical L1 delivers 64, L2 32, DRAM a few (lesson 00
// measured yours). So ReLU is **bandwidth-bound at every level**,
// and the honest yardstick is not flops but a plain copy of the same bytes, `memcpy(y, x, 4n)`:
// a ReLU that matches memcpy is done. Time = 8n / bandwidth: for n = 16 Mi floats (128 MiB
// moved) at 20 GB/s, 6.7 ms.
//
// ### The numerical rule
// `kernellab.h`: NaN in gives NaN out, -Inf gives 0, and the sign of a zero result is
// unspecified. ReLU is exact, so the oracle allows no error at all. `max(x, 0)` written as
// `x > 0 ? x : 0` would turn NaN into 0 (NaN > 0 is false); the naive rung writes
// `!(x <= 0) ? x : 0`, which is true for NaN.
//
// ### The checks every rung must pass
// `check_rung` runs a rung on sizes that break vector and strip loops (1, 2, 7, 8, 9, 15, 16,
// 17, 31, 33, 63, 65, 127, 1000, 4097, and one past each strip edge the registry reports), out
// of place and in place, with base pointers 1 float past a 64-byte boundary, with NaN, -Inf,
// +Inf, -0 planted at both ends, and a guard float after y that must survive (a tail that
// writes one lane too many is caught).

// %% [code]
static const kl_variant *relu_rung(const char *name) { return kl_variant_find(KL_OP_RELU, name); }

/* 1 when the rung cannot run here, after printing why: the caller's test then passes. */
static int skip_rung(const char *name) {
    const kl_variant *v = relu_rung(name);
    if (!v) {
        printf("    SKIP: relu/%s is not in this build (configured without SIMD or OpenMP)\n", name);
        return 1;
    }
    if (!kl_variant_available(v)) {
        printf("    SKIP: CPU lacks %s\n", kl_isa_name(v->isa));
        return 1;
    }
    return 0;
}

/* One size, out of place then in place, pointers off a 64-byte boundary, specials planted. */
static int check_one(const char *name, ptrdiff_t n) {
    enum { OFF = 1, GUARD = 16 };
    /* aligned_alloc wants a size that is a multiple of the alignment */
    const size_t bytes = ((size_t)(n + OFF + GUARD) * sizeof(float) + 63) / 64 * 64;
    float *xbuf = aligned_alloc(64, bytes), *ybuf = aligned_alloc(64, bytes);
    float *x0 = malloc(sizeof(float) * (size_t)n);
    int fail = 0;
    if (!xbuf || !ybuf || !x0) {
        fail = KL_FAIL("out of memory");
        goto done;
    }
    unsigned long long seed = 0x9E3779B97F4A7C15ULL ^ (unsigned long long)n;
    for (ptrdiff_t i = 0; i < n; i++) x0[i] = kl_lesson_uniform(&seed);
    const float specials[4] = {NAN, -INFINITY, INFINITY, -0.0f};
    for (int s = 0; s < 4 && n > 8; s++) x0[s] = specials[s], x0[n - 1 - s] = specials[3 - s];
    float *x = xbuf + OFF, *y = ybuf + OFF;
    for (int g = 0; g < GUARD; g++) y[n + g] = 12345.0f;
    memcpy(x, x0, sizeof(float) * (size_t)n);
    ptrdiff_t where;
    kl_stub_reset();
    kl_status s = kl_relu_variant(name, n, x, y);
    if (kl_lesson_report(KL_OP_RELU, name, s)) {
        fail = 1;
        goto done;
    }
    double worst = kl_check_relu(n, x0, y, &where);
    if (worst > 0.0)
        fail = KL_FAIL("relu/%s n=%td out of place: y[%td] = %g for x = %g", name, n, where,
                       (double)y[where], (double)x0[where]);
    for (int g = 0; g < GUARD && !fail; g++)
        if (y[n + g] != 12345.0f) fail = KL_FAIL("relu/%s n=%td wrote y[%td], past the end", name, n, n + g);
    if (!fail && memcmp(x, x0, sizeof(float) * (size_t)n) != 0)
        fail = KL_FAIL("relu/%s n=%td out of place modified x", name, n);
    if (!fail && (s = kl_relu_variant(name, n, x, x)) != KL_OK)
        fail = kl_lesson_report(KL_OP_RELU, name, s);
    if (!fail && kl_check_relu(n, x0, x, &where) > 0.0)
        fail = KL_FAIL("relu/%s n=%td in place: x[%td] = %g for %g", name, n, where, (double)x[where],
                       (double)x0[where]);
done:
    free(xbuf), free(ybuf), free(x0);
    return fail;
}

static int check_rung(const char *name) {
    static const ptrdiff_t sizes[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 63, 65, 127, 1000, 4097};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (check_one(name, sizes[i])) return 1;
    const kl_variant *v = relu_rung(name);
    ptrdiff_t edges[4];
    size_t count = v && v->blocking ? v->blocking(edges, 4) : 0;
    for (size_t e = 0; e < count && e < 4; e++)
        for (ptrdiff_t d = -1; d <= 1; d++)
            if (check_one(name, edges[e] + d) || check_one(name, 2 * edges[e] + 1)) return 1;
    return kl_lesson_check_relu(name, 100003); /* and the shared oracle check, out of place */
}

// %% [markdown]
// ## Rung 1: naive
// One element per iteration. `!(v <= 0)` rather than `v > 0` keeps NaN. The library builds
// this file without the vectorizer (`-fno-tree-vectorize`: at -O3 GCC would turn the loop into
// SSE code with a compare and a mask), so the rung stays scalar and the SIMD rungs' gain over
// it is their own. GCC compiles the select to a compare and a **branch** (`comiss; jb`). On
// the lesson's random inputs half the signs are negative, unpredictably, so about half the
// branches mispredict (~15 cycles each): on a Zen 3 VM, for example, about 1.5 GB/s on random
// signs against about 6 GB/s on inputs whose sign pattern the predictor learns. Far under any
// memory roof either way; the measure cell below shows where it lands on yours.

// %% [code] {"kernel": "kernels/relu/naive.c", "grade_id": "relu_naive", "points": 0, "solution": true}
// The implementation lives in kernels/relu/naive.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the naive rung

// %% [code] {"grade_id": "test_relu_naive", "points": 1, "locked": true}
static int test_relu_naive(void) { return check_rung("naive"); }

// %% [markdown]
// ## Rung 2: strip-mined ("blocked")
// The array is walked in strips of half of L1d (4096 floats with a 32 KiB L1d), the textbook
// cache-blocking move. The strip length comes from `kl_cpu_cache_bytes(1)` at run time and is
// what the registry's `blocking` function reports, so the tests check one short of, at, and
// one past a strip edge. Read the measurement below before expecting anything from it:
// blocking helps when a block is *reused* while it sits in cache, and ReLU touches each
// element exactly once.

// %% [code] {"kernel": "kernels/relu/blocked.c", "grade_id": "relu_blocked", "points": 0, "solution": true}
// The implementation lives in kernels/relu/blocked.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the strip-mined rung

// %% [code] {"grade_id": "test_relu_blocked", "points": 1, "locked": true}
static int test_relu_blocked(void) { return check_rung("blocked"); }

// %% [markdown]
// ## Rung 3: AVX2
// Eight floats per `vmaxps`, four independent vectors per iteration so loads, maxes and stores
// overlap. You write `tail_mask` (a vector whose lanes [0, rem) are all ones: compare a
// broadcast of rem against the lane indices 0..7) and the span kernel `kl_relu_span_avx2`
// that uses it. Two details carry the rung:
// - **Operand order and NaN.** `vmaxps` (`_mm256_max_ps(a, b)`) returns its *second* operand
//   whenever either is NaN. `_mm256_max_ps(zero, x)` therefore returns x, the NaN, as the
//   rule demands; `_mm256_max_ps(x, zero)` would silently return 0. Compilers keep the order
//   of these intrinsics because the two orders differ exactly on NaN.
// - **The tail.** The last n mod 8 floats go through `_mm256_maskload_ps` /
//   `_mm256_maskstore_ps` with a lane mask built from the count: masked-off lanes are neither
//   read nor written, so no byte past the array is touched (the guard check in the test
//   fails if one is).
// - **Streaming.** Out of place and large (x + y beyond L3, on one thread as on a team) the
//   stores are non-temporal (`_mm256_stream_ps`): they skip the read-for-ownership of y, so 8
//   bytes move per element instead of 12, and they do not evict x. They are never used in
//   place (the line was just read, it is in cache) nor for small arrays (the next layer wants
//   y in cache). See README.md for the measurement behind the threshold; `KL_RELU_NT_MIN`
//   overrides it.

// %% [code] {"kernel": "kernels/relu/avx2.c", "grade_id": "relu_avx2", "points": 0, "solution": true}
// The implementation lives in kernels/relu/avx2.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX2 rung
// Every size below 33 ends in a different tail; NaN sits in lane 0 and in the tail. On a CPU
// without AVX2 the test prints `SKIP: CPU lacks avx2` and passes. The streaming path is
// exercised at 524,301 floats with y one float past a 64-byte boundary (the unaligned head).

// %% [code] {"grade_id": "test_relu_avx2", "points": 3, "locked": true}
static int test_relu_avx2(void) {
    if (skip_rung("avx2")) return 0;
    return check_rung("avx2") || check_one("avx2", 524301);
}

// %% [markdown]
// ## Rung 3b: AVX-512
// The same structure with 16 floats per instruction; the tail is one masked load and store
// with a `__mmask16`, which is what AVX-512 masks were designed for. The streaming head is one
// masked store that brings y to a 64-byte boundary. It runs, and is checked, only on a CPU
// with AVX-512 (F, BW, DQ, VL): the first line the lesson prints says whether yours has it;
// without it the test prints `SKIP: CPU lacks avx512`.

// %% [code] {"kernel": "kernels/relu/avx512.c", "grade_id": "relu_avx512", "points": 0, "solution": true}
// The implementation lives in kernels/relu/avx512.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX-512 rung
// On a CPU without AVX-512 this prints `SKIP: CPU lacks avx512` and passes.

// %% [code] {"grade_id": "test_relu_avx512", "points": 2, "locked": true}
static int test_relu_avx512(void) {
    if (skip_rung("avx512")) return 0; /* here: "SKIP: CPU lacks avx512" */
    return check_rung("avx512") || check_one("avx512", 524301);
}

// %% [markdown]
// ## Rung 4: OpenMP
// One contiguous span per thread, each a multiple of 16 floats (so no two threads write the
// same 64-byte line of y), each run by the best SIMD span kernel the CPU has, chosen at run
// time (your `avx2.c` and `avx512.c` spans; on a CPU with neither, `span_scalar`, which you
// write too: the naive loop over one span). Why threads help a kernel that does almost no arithmetic: one core cannot keep enough
// cache misses in flight to saturate DRAM (its line-fill buffers run out), and each core brings
// its own L1 and L2 bandwidth. Why they can hurt: waking a team costs microseconds. Below
// a size the library measures on your machine at start-up (the team's wake-up time against one
// thread's copy rate; `KL_RELU_OMP_MIN` overrides it, in floats) the rung runs on the calling
// thread.

// %% [code] {"kernel": "kernels/relu/openmp.c", "grade_id": "relu_openmp", "points": 0, "solution": true}
// The implementation lives in kernels/relu/openmp.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the OpenMP rung
// The same checks at 1 and at 2 threads, plus sizes on both sides of the threading threshold
// and of the streaming threshold (so the team really runs, and each thread's span has its own
// unaligned head), then the default is restored with `kl_set_num_threads(0)`.

// %% [code] {"grade_id": "test_relu_openmp", "points": 3, "locked": true}
static int test_relu_openmp(void) {
    if (skip_rung("openmp")) return 0;
    static const ptrdiff_t big[] = {32767, 32768, 32769, 300007, 524301, 1048593};
    int fail = 0;
    for (int threads = 1; threads <= 2 && !fail; threads++) {
        if (kl_set_num_threads(threads) != KL_OK) {
            fail = KL_FAIL("kl_set_num_threads(%d) failed", threads);
            break;
        }
        fail = check_rung("openmp");
        for (size_t i = 0; i < sizeof big / sizeof big[0] && !fail; i++) fail = check_one("openmp", big[i]);
    }
    kl_set_num_threads(0);
    return fail;
}

// %% [markdown]
// ## Rung 5: fused (matmul + bias + ReLU)
// Alone, ReLU cannot be made faster than a copy. In a network it almost never runs alone: it
// follows a dense layer, `C = relu(A·B + bias)` (op `linear_relu`). Done unfused (registry
// row `unfused`: the best matmul, then a bias + ReLU pass), C is written by the matmul, then
// read back and written again: 8mn extra bytes, at DRAM speed once C outgrows the caches.
//
// The fused rung uses the packed matmul driver of Module 01 (`kernels/matmul/gemm.c`), which
// already blocks C into MR × NR tiles that the micro-kernel writes back one at a time. The
// driver takes an *epilogue* (`kl_gemm_epilogue`: a tile function and the bias) and calls it
// on each tile right after the micro-kernel stores it on the **last KC block** — only then is
// the tile final, and it is still in L1. Earlier KC blocks accumulate partial sums; applying
// ReLU to those would be wrong (the tests split k just past KC to catch it). The tile function
// is the AVX2 ReLU of rung 3 plus a bias load: `max(zero, c + bias[col + j])`, with `col` the
// tile's first column of C (C is blocked by NC too: the bias must follow). It runs on the
// openmp rung's team, each thread finishing its own tiles; plain matmul passes no epilogue
// and pays one predictable branch per tile.

// %% [code] {"kernel": "kernels/linear_relu/fused.c", "grade_id": "relu_fused", "points": 0, "solution": true}
// The implementation lives in kernels/linear_relu/fused.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the fused rung
// Against the float64 oracle `kl_check_linear_relu` (matmul's error bound on the
// pre-activation; exactly 0 where it is clearly negative), with bias and without, on shapes
// around the micro-tile (6 × 16) and the KC/NC blocks, padded leading dimensions, C filled
// with NaN first (C is output only), and a NaN planted in A and in the bias, at 1 and 2
// threads. `tests/test_linear_relu.c` sweeps far more.

// %% [code] {"grade_id": "test_relu_fused", "points": 3, "locked": true}
/* One call of linear_relu/<name> on m x n x k with ld = row + pad, C filled with NaN first
 * (output only: must not leak); with plant_nan a NaN in the middle of A and of the bias. */
static int check_linear(const char *name, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t pad,
                        int with_bias, int plant_nan) {
    const kl_lesson_case c = {.pad = pad, .drop_optional = !with_bias,
                              .nan_in = {plant_nan ? "A" : NULL, plant_nan ? "bias" : NULL},
                              .seed = (unsigned)(m * 131 + n * 7 + k)};
    return kl_lesson_check_case(KL_OP_LINEAR_RELU, name, m, n, k, &c);
}

static int test_relu_fused(void) {
    const kl_variant *v = kl_variant_find(KL_OP_LINEAR_RELU, "fused");
    if (!v) {
        printf("    SKIP: linear_relu/fused is not in this build (configured without SIMD)\n");
        return 0;
    }
    if (!kl_variant_available(v)) {
        printf("    SKIP: CPU lacks %s\n", kl_isa_name(v->isa));
        return 0;
    }
    ptrdiff_t blk[8] = {0};
    size_t nb = v->blocking ? v->blocking(blk, 8) : 0; /* MR, NR, MC, KC, NC */
    ptrdiff_t kc = nb > 3 ? blk[3] : 256, nc = nb > 4 ? blk[4] : 4096;
    const ptrdiff_t shapes[][3] = {{1, 1, 1}, {5, 15, 3}, {6, 16, 7}, {7, 17, 9}, {13, 33, 64},
                                   {61, 67, kc - 1}, {23, 41, kc + 1}, {9, nc + 1, 11}, {100, 100, 2 * kc + 1}};
    int fail = 0;
    for (int threads = 1; threads <= 2 && !fail; threads++) {
        kl_set_num_threads(threads);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0] && !fail; i++)
            for (int bias = 0; bias <= 1 && !fail; bias++)
                fail = check_linear("fused", shapes[i][0], shapes[i][1], shapes[i][2], 0, bias, 0) ||
                       check_linear("fused", shapes[i][0], shapes[i][1], shapes[i][2], 3, bias, 1);
    }
    kl_set_num_threads(0);
    return fail;
}

// %% [markdown]
// ## Build → Measure → Understand
// Every rung, out of place, at three sizes where x + y fill half of L2, half of L3 and 4 x L3
// (DRAM; the sizes are capped, and each row says where its set really fits on this machine),
// as GB/s (8 bytes per element) next to `memcpy` of the same bytes, timed here in the same
// process (medians; the threaded rung at 1 and 2 threads). Printed and drawn
// (`results/relu_vs_memcpy.png`: each rung as % of memcpy), never asserted: the machine is
// shared and noisy.
//
// What to look for:
// - **naive and blocked are equally slow, everywhere.** Strip-mining cannot help: a strip of x
//   is read once and a strip of y written once, and there is no second use for the cache to
//   serve. Blocking moves the *order* of accesses, and for a streaming kernel the order was
//   already perfect (sequential, prefetched). Both are bound by one scalar, mispredicted
//   branch per float, not by memory.
// - **AVX2 reaches the copy at L2**, where it is one load, one max and one store per 8 floats.
// - **At L3 and DRAM, out of place, the stores decide.** With ordinary stores every line of y
//   is read before it is written (12 bytes per element instead of 8); streaming stores fix
//   that, which is why `memcpy` itself switches to them (or to `rep movsb`) for large copies.
// - **Two threads** help from L3 outwards (two cores keep twice as many misses in flight) and
//   lose below the threshold (waking the team costs more than the work).
// - **The yardstick has corner cases too.** On some CPUs glibc's `memcpy` of a cache-sized
//   block loses several times when y sits a few bytes off a 64-byte boundary (an example: a
//   Zen 3 VM measured ~80 GB/s aligned and 3.5–5.5 GB/s misaligned at 128 KiB), where the
//   AVX2 ReLU is unaffected (unaligned `vmovups` costs almost nothing). The baseline here
//   uses aligned buffers; compare like with like before believing a ratio.

// %% [code] {"grade_id": "measure_ladder", "points": 0, "locked": true}
static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One bar of the "% of memcpy" figure. */
static void bar(kl_json *j, int *first, const char *level, const char *label, double pct) {
    kl_json_add(j, "%s{\"label\": \"%s %s\", \"value\": ", *first ? "" : ", ", level, label);
    kl_json_num(j, pct);
    kl_json_add(j, "}");
    *first = 0;
}

static int measure_ladder(void) {
    size_t ws[3];
    kl_lesson_stream_sets(ws);
    const int reps[3] = {101, 11, 5};
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json fig = {0};
    int first = 1;
    kl_json_add(&fig, "{\"kind\": \"bars\", \"title\": \"ReLU rungs as %% of memcpy of the same bytes "
                "(out of place)\", \"machine\": \"%s\", \"ylabel\": \"%% of memcpy\", "
                "\"reference\": 100, \"bars\": [", machine);
    printf("    %-6s %10s %-16s %9s %9s\n", "level", "n", "rung", "GB/s", "/memcpy");
    for (int s = 0; s < 3; s++) {
        ptrdiff_t n = (ptrdiff_t)(ws[s] / 8);
        const char *level = kl_lesson_level(ws[s]);
        double copy = kl_lesson_memcpy_seconds((size_t)n, reps[s]);
        printf("    %-6s %10td %-16s %9.1f %9.2f\n", level, n, "memcpy", 8e-9 * (double)n / copy, 1.0);
        for (size_t i = 0; i < kl_variant_count(); i++) {
            const kl_variant *v = kl_variant_at(i);
            if (v->op != KL_OP_RELU || !kl_variant_available(v)) continue;
            for (int threads = 1; threads <= (v->threaded ? 2 : 1); threads++) {
                if (v->threaded) kl_set_num_threads(threads);
                double t = kl_lesson_median_seconds("relu", v->name, n, 0, 0, reps[s]);
                char label[40];
                snprintf(label, sizeof label, v->threaded ? "%s (%d thr)" : "%s", v->name, threads);
                if (isnan(t))
                    printf("    %-6s %10td %-16s %9s %9s   (not written yet)\n", level, n, label, "-", "-");
                else
                    printf("    %-6s %10td %-16s %9.1f %9.2f\n", level, n, label, 8e-9 * (double)n / t, copy / t);
                bar(&fig, &first, level, label, 100 * copy / t);
            }
            kl_set_num_threads(0);
        }
    }
    kl_json_add(&fig, "]}");
    kl_lesson_figure("relu_vs_memcpy", &fig);
    return 0;
}

// %% [markdown]
// ### Build → Measure → Understand: fused vs unfused
// `linear_relu` at 512 × 4096 × 256: C is 8 MiB, far past L2 (512 KiB here) and a quarter of
// the 32 MiB L3, while the multiply is only 1.07 GFLOP (2mnk). Both rows use the same packed
// micro-kernel on the same threads; they differ only in what happens to C.
//
// What to look for:
// - **unfused** writes C (8 MiB) from the matmul, then its bias + ReLU pass reads all of C back
//   and writes it again: 16 MiB more traffic, at L3/DRAM speed because C was evicted from L2
//   long before the pass reaches it (and one thread does the pass).
// - **fused** adds a bias and a max to each 6 × 16 tile while the micro-kernel's stores are
//   still in L1: no extra trip through memory, so the epilogue costs a few cycles per tile.
//   The most fusing can save is the separate pass; the printed "pass" row is that time alone.
// - **How much that is depends on k.** The multiply costs 2k flops per element of C, the pass
//   8 bytes per element: at k = 256 the pass is about a tenth of the layer, at k = 4096 it
//   would vanish in the flops. The cell prints the pass alone and both rungs at 1 and 2
//   threads; compare the pass's time with the gap between unfused and fused. (An example
//   from a 2-core Zen 3 VM with a 32 MiB L3: the pass ~2 ms, the layer ~20 ms on one thread,
//   fused 5% faster; on two threads inside the run-to-run noise.) With C past L3, or an epilogue with more passes (bias, activation, dropout,
//   a cast), the saving grows; with a large k it shrinks towards nothing.
// - Blocking pays here, where it never did for ReLU alone, because the block (a tile of C)
//   is reused: written by the micro-kernel, then finished by the epilogue while still in L1.
//   A fair baseline matters: a scalar unfused pass that gcc -O2 leaves unvectorized (a
//   mispredicted branch per float) makes fusion look far better than it is. Measure against
//   the best unfused version before believing a ratio.

// %% [code] {"grade_id": "measure_fused", "points": 0, "locked": true}
static double linear_seconds(const char *name, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             const float *A, const float *B, const float *bias, float *C, int reps) {
    double t[16], med = NAN;
    if (reps > 16) reps = 16;
    for (int r = 0; r <= reps; r++) { /* r == 0: warm-up (page faults, thread pool) */
        double a = now_seconds();
        if (kl_linear_relu_variant(name, m, n, k, A, k, B, n, bias, C, n) != KL_OK) return NAN;
        if (r > 0) t[r - 1] = now_seconds() - a;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    med = t[reps / 2];
    return med;
}

/* The separate pass alone (as linear_relu/unfused does it, vectorized: see common.c). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("vect-cost-model=dynamic")))
#endif
static void bias_relu_pass(ptrdiff_t m, ptrdiff_t n, const float *bias, float *C) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            float x = C[i * n + j] + bias[j];
            C[i * n + j] = x < 0.0f ? 0.0f : x;
        }
}

static int measure_fused(void) {
    const ptrdiff_t m = 512, n = 4096, k = 256;
    float *A = malloc(sizeof(float) * (size_t)(m * k)), *B = malloc(sizeof(float) * (size_t)(k * n));
    float *C = malloc(sizeof(float) * (size_t)(m * n)), *bias = malloc(sizeof(float) * (size_t)n);
    if (A && B && C && bias) {
        unsigned long long seed = 42;
        for (ptrdiff_t i = 0; i < m * k; i++) A[i] = kl_lesson_uniform(&seed);
        for (ptrdiff_t i = 0; i < k * n; i++) B[i] = kl_lesson_uniform(&seed);
        for (ptrdiff_t i = 0; i < n; i++) bias[i] = kl_lesson_uniform(&seed);
        printf("    linear_relu %tdx%tdx%td (C = %.0f MiB, L2 = %zu KiB)\n", m, n, k,
               4.0 * (double)(m * n) / (1 << 20), kl_cpu_cache_bytes(2) >> 10);
        printf("    %-10s %8s %10s %9s\n", "rung", "threads", "ms", "GFLOP/s");
        for (int threads = 1; threads <= 2; threads++) {
            kl_set_num_threads(threads);
            double tu = NAN;
            for (size_t i = 0; i < kl_variant_count(); i++) {
                const kl_variant *v = kl_variant_at(i);
                if (v->op != KL_OP_LINEAR_RELU || !kl_variant_available(v)) continue;
                double t = linear_seconds(v->name, m, n, k, A, B, bias, C, 7);
                if (strcmp(v->name, "unfused") == 0) tu = t;
                printf("    %-10s %8d %10.2f %9.1f", v->name, threads, 1e3 * t, 2e-9 * (double)(m * n * k) / t);
                if (strcmp(v->name, "unfused") != 0 && tu == tu) printf("   (unfused / this = %.2fx)", tu / t);
                printf("\n");
            }
            /* the separate pass alone: what fusing saves (C is out of L2 by now) */
            double tp = now_seconds();
            bias_relu_pass(m, n, bias, C);
            tp = now_seconds() - tp;
            printf("    %-10s %8s %10.2f   (bias + ReLU over C, one thread: ~%.1f GB/s)\n", "pass", "-",
                   1e3 * tp, 8e-9 * (double)(m * n) / tp);
        }
        kl_set_num_threads(0);
    }
    free(A), free(B), free(C), free(bias);
    return 0;
}

// %% [markdown]
// ## Memory profiling
// ReLU needs no scratch: every rung's registry entry says `scratch_bytes = NULL` (none), and
// this test holds each to it. The lesson's `--workload relu VARIANT n 0 0` mode allocates x
// and y (n floats each), makes one call and exits; `kl_lesson_massif_peak` runs that under
// Valgrind Massif and returns the peak heap bytes. The bound, at n = 100,003:
//
//     inputs    = 8·n                        x and y: 800,024 B
//     scratch   = 0                           no rung allocates
//     allowance = 4 KiB + 1 KiB per thread    heap the rung does not own
//     inputs < peak <= inputs + scratch + allowance
//
// The allowance is for the C and OpenMP runtimes' bookkeeping: single-threaded rungs measure a
// few bytes over the inputs; the openmp rung at 100,003 floats (above its threshold) makes
// libgomp build its thread pool and team structures, about 2–3 KiB at 2 threads (the same
// figure Module 01 measured for libgomp). Thread stacks are mmap'd, not heap, so Massif's heap
// peak does not count them. The lower bound proves Massif saw the workload. Without valgrind,
// or in a sanitizer build (Valgrind cannot run ASan binaries), the test prints SKIP and passes.

// %% [code] {"grade_id": "test_memory_relu", "points": 2, "locked": true}
enum { MASSIF_N = 100003 };

static int valgrind_usable(void) {
#ifdef __SANITIZE_ADDRESS__
    return 0;
#else
    return access("/usr/bin/valgrind", X_OK) == 0;
#endif
}

static int massif_within(const char *name) {
    const kl_variant *v = relu_rung(name);
    if (!v || !kl_variant_available(v)) return 0; /* not in this build / CPU: nothing to profile */
    const size_t inputs = 2 * sizeof(float) * (size_t)MASSIF_N;
    const int threads = v->threaded ? kl_get_num_threads() : 1;
    const size_t scratch = v->scratch_bytes ? v->scratch_bytes(MASSIF_N, 0, 0, threads) : 0;
    const size_t allowance = 4096 + 1024 * (size_t)threads;
    if (!kl_lesson_implemented("relu", name, MASSIF_N, 0, 0)) return 1;
    long long peak = kl_lesson_massif_peak("relu", name, MASSIF_N, 0, 0);
    if (peak < 0) return KL_FAIL("relu/%s: the Massif run failed (does the rung work?)", name);
    printf("    %-8s n=%d threads=%d: peak %lld B = inputs %zu + %lld (scratch formula %zu)\n", name,
           MASSIF_N, threads, peak, inputs, peak - (long long)inputs, scratch);
    if (peak <= (long long)inputs)
        return KL_FAIL("relu/%s: peak %lld <= inputs %zu: Massif did not see the workload", name,
                       peak, inputs);
    if (peak > (long long)(inputs + scratch + allowance))
        return KL_FAIL("relu/%s: peak %lld > inputs %zu + scratch %zu + allowance %zu", name, peak,
                       inputs, scratch, allowance);
    return 0;
}

static int test_memory_relu(void) {
    if (!valgrind_usable()) {
        printf("    SKIP: valgrind is not installed, or this is a sanitizer build\n");
        return 0;
    }
    return massif_within("naive") || massif_within("avx2") || massif_within("openmp");
}

// %% [markdown]
// ## Complexity
// - **Time**: O(n), exactly n comparisons; every rung does the same work and differs only in
//   how many elements it retires per cycle (about 1 for naive, 8 per instruction for AVX2,
//   16 for AVX-512, times the cores for OpenMP) and in how it stores.
// - **Memory traffic**: 8n bytes at best (read x, write y); 12n with ordinary out-of-place
//   stores once y no longer fits in cache (read for ownership of y); 8n with streaming stores
//   or in place. Arithmetic intensity 1/8 flop/byte (1/12 with the RFO): at any size, ReLU
//   sits on the bandwidth roof of the level its arrays live in.
// - **Space**: no scratch; y may be x, so in place it needs no memory at all beyond x.
// - **Strip-mining** changes neither count: O(n/strip) extra loop overhead and no reuse.

// %% [markdown]
// ## Production context
// - **PyTorch `torch.relu`** on CPU is an ATen operator (`relu` → `clamp_min(0)` in recent
//   versions) whose kernel runs through ATen's `TensorIterator` and its vectorised CPU loops
//   (`at::vec::Vectorized`), compiled several times for different ISAs (default, AVX2,
//   AVX-512) and picked at run time by CPU capability, the same dispatch `kl_cpu_isa()` does
//   here. Large tensors are split across threads with `at::parallel_for` and a grain size
//   below which it stays on one thread, like `KL_RELU_OMP_MIN`. `torch.relu_` / `inplace=True`
//   is the y == x case.
// - **Fused epilogues.** In a real network ReLU rarely runs alone: cuBLASLt (`CUBLASLT_EPILOGUE_RELU`,
//   `..._RELU_BIAS`) and oneDNN (post-ops `eltwise_relu` attached to a matmul or convolution
//   primitive) apply it to each output tile while it is still in registers, so the extra 8n
//   bytes of a separate pass disappear. That fusion is what a bandwidth-bound op like this one
//   is asking for; here it is rung 5 (`linear_relu/fused`: an epilogue hook in the packed driver).
// - **Compilers and graph runtimes** (XLA, TorchInductor, TVM) fuse elementwise chains such
//   as bias + ReLU + dropout into one loop for the same reason: the fused chain moves the bytes
//   once.

// %% [code] {"grade_id": "run_all_tests", "points": 0, "locked": true}
int main(int argc, char **argv) {
    static const kl_lesson_test tests[] = {
        {"test_relu_naive", 1, test_relu_naive},
        {"test_relu_blocked", 1, test_relu_blocked},
        {"test_relu_avx2", 3, test_relu_avx2},
        {"test_relu_avx512", 2, test_relu_avx512},
        {"test_relu_openmp", 3, test_relu_openmp},
        {"test_relu_fused", 3, test_relu_fused},
        {"measure_ladder", 0, measure_ladder},
        {"measure_fused", 0, measure_fused},
        {"test_memory_relu", 2, test_memory_relu},
    };
    return kl_lesson_main(argc, argv, "02_relu", tests, sizeof tests / sizeof tests[0]);
}

// %% [markdown]
// ## ML systems thinking
//
// Answer each question in the cell after it: a few sentences, with numbers this lesson
// measured on your machine. These answers are graded by hand (2 points each).
//
// 1. A transformer MLP computes `relu(x·W1 + b1)` on a 2048 × 16384 activation. How many bytes
//    does a separate ReLU pass move, and how long does it take at this machine's measured DRAM
//    bandwidth? Compare with the matmul's time at the packed rung's GFLOP/s from Module 01.
//    What fraction of the layer is the ReLU, and what does fusing it into the matmul save?
// 2. Your strip-mined rung did not get faster. Name a change to the *computation* (not the
//    loop) that would let blocking pay off, for example a chain of elementwise ops applied to
//    the same strip. How many ops must share a strip before it matters?
// 3. Why does `memcpy` get faster than your out-of-place AVX2 rung at L3 and DRAM sizes with
//    ordinary stores, and what exactly do non-temporal stores change? When would streaming y
//    be the wrong choice in a network (think about who reads y next)?
// 4. The OpenMP threshold was measured on a 2-core VM shared with other jobs. How would you
//    expect the crossover to move on a quiet 64-core server, and why is a fixed threshold in
//    floats only an approximation of what you really want to compare?
// 5. `_mm256_max_ps(x, zero)` passes every test that has no NaN. Which property of the test
//    inputs caught it here, and what would a model see downstream if ReLU swallowed NaN?

// %% [markdown] {"grade_id": "answer_relu_q1", "points": 2, "grade": true, "solution": true}
// **Answer 1** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_relu_q2", "points": 2, "grade": true, "solution": true}
// **Answer 2** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_relu_q3", "points": 2, "grade": true, "solution": true}
// **Answer 3** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_relu_q4", "points": 2, "grade": true, "solution": true}
// **Answer 4** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_relu_q5", "points": 2, "grade": true, "solution": true}
// **Answer 5** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown]
// ## Summary
// - ReLU does 1 flop per 8 bytes: it lives on the bandwidth roof, so `memcpy` of the same
//   bytes is the target, not a flop count.
// - **naive** and **blocked** are scalar-bound; strip-mining cannot help a kernel with no
//   reuse, and the measurement shows it.
// - **AVX2 / AVX-512**: `max(zero, x)` keeps NaN; masked tails touch nothing past the array;
//   non-temporal stores remove the read-for-ownership for large out-of-place calls.
// - **OpenMP**: per-thread spans on cache-line boundaries, the best SIMD span kernel inside,
//   and a measured size threshold below which one thread is faster.
// - **fused** (`linear_relu`): bias + ReLU applied to each tile of a packed matmul on its last
//   KC block, while it is in L1, saves the 8mn-byte round trip of C a separate pass costs.
// - Tests are exact (float64 oracle, NaN/±Inf/-0, guard floats, unaligned pointers, every
//   tail); Massif shows no rung allocates; speed is printed, never asserted.
