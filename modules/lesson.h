/* What every lesson's tests share: a runner that prints and scores graded tests, oracle
 * checks for each op, and Massif for the memory-profiling cell. Lessons link this with
 * kernellab and the float64 reference. See modules/README.md for the cell format. */
#ifndef KL_LESSON_H
#define KL_LESSON_H

#include <stddef.h>

#include "kernellab.h"

/* A graded test: returns 0 when it passes; prints its own reason when it fails. */
typedef int (*kl_lesson_test_fn)(void);
typedef struct {
    const char *grade_id; /* unique across the lesson, as in its cell's metadata */
    int points;
    kl_lesson_test_fn run;
} kl_lesson_test;

/* The lesson's main. Runs every test in order, prints one line each and a closing
 * "N passed, N failed" line; returns 0 only if all pass.
 *   --list              print grade_ids and points, run nothing
 *   --only GRADE_ID     run one test
 *   --json FILE         also write {"module", "tests": [{"grade_id", "points", "max_points", "passed"}]}
 *   env KL_LESSON_QUICK=1  run the graded tests only (skip the 0-point measure cells)
 *   --workload OP VARIANT D0 D1 D2
 *                       run one call of a variant and exit (what Massif profiles) */
int kl_lesson_main(int argc, char **argv, const char *module, const kl_lesson_test *tests,
                   size_t count);

/* How a check builds its inputs beyond the op's defaults (kernels/<op>/<op>_op.c); zero
 * means the default. */
typedef struct kl_lesson_case {
    ptrdiff_t pad;       /* extra floats per row of strided buffers (matmul's lda, ldb, ldc) */
    float shift;         /* the op's first input centred here, +-1 (1e4 shows cancellation) */
    const char *nan_in[4]; /* inputs that get a NaN in their middle element (e.g. "A", "bias") */
    int drop_optional;   /* NULL for optional inputs and outputs (bias, mean, rstd) */
    unsigned seed;       /* another seed, for another draw of the same shape */
    int nparams;
    struct { const char *name; float value; } params[4]; /* e.g. {"beta", 0.5f} */
} kl_lesson_case;

/* Run `variant` of op on seeded random inputs of shape (d0, d1, d2), as case c says (NULL:
 * the defaults), and hold it to the op's float64 oracle (its descriptor's check). Returns 0 on a
 * match; prints why otherwise, and "not implemented yet" for a stub returning KL_EUNSUPPORTED. */
int kl_lesson_check_case(kl_op op, const char *variant, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2,
                         const kl_lesson_case *c);

/* Run `variant` on seeded random inputs of this shape and hold it to the float64 oracle.
 * Returns 0 on a match. Prints why otherwise, and "not implemented yet" for a stub that
 * returns KL_EUNSUPPORTED. matmul runs with beta 0.5 (C is scaled, not overwritten); layernorm's
 * row_mean shifts the inputs (1e4 shows cancellation). */
int kl_lesson_check_matmul(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);
int kl_lesson_check_relu(const char *variant, ptrdiff_t n);
int kl_lesson_check_layernorm(const char *variant, ptrdiff_t rows, ptrdiff_t cols, float row_mean);

/* For a lesson's own checks: kl_stub_reset() before calling a rung, then this after it. 0 when
 * the call returned KL_OK and reached no student stub; otherwise prints what to write and
 * where ("not implemented yet: write kernels/relu/avx2.c: tail_mask()"; a stub in another
 * file is a rung this one depends on) or the status and the rung's file, and returns 1. */
int kl_lesson_report(kl_op op, const char *variant, kl_status s);

/* 1 when `variant` runs once at this shape without reaching a student stub; otherwise prints
 * "not implemented yet: write FILE: FUNCTION()" (or the status it returned) and returns 0.
 * Call it before profiling or timing a rung, so a stub fails instead of being skipped. */
int kl_lesson_implemented(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                          ptrdiff_t d2);

/* Heap bytes the `--workload` call allocates itself: the op's buffers (kernels/<op>/<op>_op.c)
 * and a copy of each in-out one (matmul: A, B, C and C0). 0 for an unknown op. */
size_t kl_lesson_workload_bytes(const char *op, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2);

/* Peak heap bytes (Massif's mem_heap_B, largest snapshot) of one `--workload` call of this
 * lesson's own binary. Returns -1 when valgrind is not installed, or in an ASan build, which
 * Valgrind cannot run (the caller prints SKIP), and -2 when the workload itself failed.
 * op "own" profiles the lesson's own workload (kl_lesson_set_own_workload). */
long long kl_lesson_massif_peak(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                                ptrdiff_t d2);

/* A lesson's own workload, run by `--workload own NAME D0 D1 D2`: 0 on success. For lessons
 * that profile their own loops rather than a registry rung. Set it before kl_lesson_main. */
typedef int (*kl_lesson_own_workload)(const char *name, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2);
void kl_lesson_set_own_workload(kl_lesson_own_workload fn);

/* A cell's measurements, as JSON built with kl_json_add and written by kl_lesson_figure. */
typedef struct {
    char *text;
    size_t len, cap;
    int failed; /* out of memory: kl_lesson_figure then writes nothing */
} kl_json;
void kl_json_add(kl_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kl_json_num(kl_json *j, double x); /* a number, or null when x is not finite */

/* Writes the JSON object in `j` (one measure cell's numbers; see scripts/course/plot.py for the
 * kinds it draws) to results/NAME.json beside this binary, atomically, and draws
 * results/NAME.png from it with matplotlib (/usr/bin/python3 scripts/course/plot.py).
 * Prints where both went; a missing matplotlib only loses the picture. Frees j's text.
 * Returns 0 when the JSON was written. scripts/render --results puts both into the lesson. */
int kl_lesson_figure(const char *name, kl_json *j);

/* Median seconds of `reps` calls of a variant at this shape, for Build -> Measure -> Understand
 * cells. For printing only: lessons never assert on time (the machine is shared and noisy). */
double kl_lesson_median_seconds(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                                ptrdiff_t d2, int reps);

/* 1 when a rung cannot run here, after printing "SKIP: ..." (the caller's test then passes):
 * the CPU lacks its ISA, or the rung is absent and `build_optional` (SIMD and OpenMP rungs
 * are only registered in builds with them). An absent required rung returns 0, so the
 * caller's check reports it as missing. */
int kl_lesson_skip_rung(kl_op op, const char *name, int build_optional);

/* This machine in one line, as measured at run time: "avx512, 2 CPUs online, L1d 32 KiB,
 * L2 1 MiB, L3 32 MiB" (ISA from CPUID, caches from sysfs). Every lesson prints it first. */
void kl_lesson_machine(char *out, size_t size);

/* The cache level a working set of `bytes` fits in on this machine: "L1", "L2", "L3" or
 * "DRAM". Lessons label their working sets with it, never with a fixed name. */
const char *kl_lesson_level(size_t bytes);

/* Median seconds of memcpy(y, x, 4 floats) on 64-byte aligned buffers: the yardstick of the
 * streaming kernels (ReLU, LayerNorm), timed in the same process. NAN if out of memory. */
double kl_lesson_memcpy_seconds(size_t floats, int reps);

/* Bytes of x + y for the streaming lessons' three sizes: half of L2; half of L3 (at least
 * 2 x L2, at most 16 MiB); 4 x L3, kept within 64..128 MiB (a sysfs L3 can be a whole
 * socket's). Label them with kl_lesson_level(), which says where each really fits. */
void kl_lesson_stream_sets(size_t ws[3]);

/* The 1-thread FMA peak (GFLOP/s) lesson 00 measured on this machine for an ISA ("scalar",
 * "avx2", "avx512"), read from its results/roofline.json in the same build; NAN when lesson
 * 00 has not run (the later lessons then print their numbers without "% of peak"). */
double kl_lesson_peak_gflops(const char *isa);

/* Seeded uniform floats in [-1, 1) (xorshift64*): lessons' inputs are reproducible. */
float kl_lesson_uniform(unsigned long long *state);

/* Monotonic seconds, for the measuring cells. */
double kl_lesson_now(void);

/* 1 when Massif can profile this binary: valgrind installed and not an ASan build. */
int kl_lesson_valgrind_usable(void);

/* Prints a failure with its location and returns 1: `return KL_FAIL("n=%d", n);` */
int kl_lesson_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define KL_FAIL(...) kl_lesson_fail(__FILE__, __LINE__, __VA_ARGS__)

#endif
