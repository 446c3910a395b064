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
 *   --workload OP VARIANT D0 D1 D2
 *                       run one call of a variant and exit (what Massif profiles) */
int kl_lesson_main(int argc, char **argv, const char *module, const kl_lesson_test *tests,
                   size_t count);

/* Run `variant` on seeded random inputs of this shape and hold it to the float64 oracle.
 * Returns 0 on a match. Prints why otherwise, and "not implemented yet" for a stub that
 * returns KL_EUNSUPPORTED. layernorm's row_mean shifts the inputs (1e4 shows cancellation). */
int kl_lesson_check_matmul(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);
int kl_lesson_check_relu(const char *variant, ptrdiff_t n);
int kl_lesson_check_layernorm(const char *variant, ptrdiff_t rows, ptrdiff_t cols, float row_mean);

/* Peak heap bytes (Massif's mem_heap_B, largest snapshot) of one `--workload` call of this
 * lesson's own binary. Returns -1 when valgrind is not installed, or in an ASan build, which
 * Valgrind cannot run (the caller prints SKIP). */
long long kl_lesson_massif_peak(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                                ptrdiff_t d2);

/* Median seconds of `reps` calls of a variant at this shape, for Build -> Measure -> Understand
 * cells. For printing only: lessons never assert on time (the machine is shared and noisy). */
double kl_lesson_median_seconds(const char *op, const char *variant, ptrdiff_t d0, ptrdiff_t d1,
                                ptrdiff_t d2, int reps);

/* 1 when a rung cannot run here, after printing "SKIP: ..." (the caller's test then passes):
 * the CPU lacks its ISA, or the rung is absent and `build_optional` (SIMD and OpenMP rungs
 * are only registered in builds with them). An absent required rung returns 0, so the
 * caller's check reports it as missing. */
int kl_lesson_skip_rung(kl_op op, const char *name, int build_optional);

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
