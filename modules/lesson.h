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

/* Peak heap bytes (Massif's mem_heap_B, largest snapshot) of one `--workload` call of this
 * lesson's own binary. Returns -1 when valgrind is not installed, or in an ASan build, which
 * Valgrind cannot run (the caller prints SKIP). */
/* Heap bytes the `--workload` call allocates itself: the op's buffers (kernels/<op>/<op>_op.c)
 * and a copy of each in-out one (matmul: A, B, C and C0). 0 for an unknown op. */
size_t kl_lesson_workload_bytes(const char *op, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2);

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
