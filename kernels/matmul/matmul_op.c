/* The matmul op's descriptor (kernels/ops/ops.h): C[m][n] = alpha A[m][k] . B[k][n] + beta C. */
#include "ops.h"
#include "reference.h"

#include <string.h>

enum { A, B, C };

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_matmul_run(v, a->d[0], a->d[1], a->d[2], a->p[0], a->buf[A], a->ld[A], a->buf[B],
                         a->ld[B], a->p[1], a->buf[C], a->ld[C]);
}

/* Row i of C against the float64 oracle (it depends only on row i of A). */
static double check_row(const kl_op_args *a, ptrdiff_t i, ptrdiff_t *where) {
    const float *C0 = a->initial[C] ? a->initial[C] : a->buf[C]; /* beta 0 reads no C0 */
    return kl_check_matmul(1, a->d[1], a->d[2], a->p[0], a->buf[A] + i * a->ld[A], a->ld[A],
                           a->buf[B], a->ld[B], a->p[1], C0 + i * a->ld[C],
                           a->buf[C] + i * a->ld[C], a->ld[C], where);
}

/* The oracle is O(mnk) with a large constant (it walks B down its columns): sampled, whole rows
 * of C (kl_op_check_rows). */
static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    return kl_op_check_rows(a, sample, a->d[0], (double)a->d[1] * a->d[2], a->ld[C], check_row,
                            where);
}

static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t small[] = {16, 17, 64, 100, 128};
    static const ptrdiff_t all[] = {16, 17, 32, 64, 96, 100, 128, 256, 257, 512, 1000, 1023,
                                    1024, 2048};
    const ptrdiff_t *s = quick ? small : all;
    size_t count = quick ? sizeof small / sizeof *small : sizeof all / sizeof *all;
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = shapes[i][1] = shapes[i][2] = s[i];
    return count;
}

/* naive takes minutes above 512; 1023 (a ragged edge in every block) and 2048 (several blocks
 * in every loop) run only for the simd and openmp rungs: interchange, blocked and packed take
 * seconds per call there and add nothing the 1000 / 1024 rows do not show. */
static int bench_skips(const kl_variant *v, const ptrdiff_t *d) {
    const ptrdiff_t s = d[0];
    int fast = strcmp(v->rung, "simd") == 0 || strcmp(v->rung, "openmp") == 0;
    if (strcmp(v->rung, "naive") == 0 && s > 512) return 1;
    return !fast && (s == 1023 || s > 1024);
}

#ifdef KL_OPS_BLIS
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    (void)lo, (void)hi;
    kl_op_blis_gemm(a, 0);
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_matmul_op = {
    .op = KL_OP_MATMUL,
    .name = "matmul",
    .summary = "C[m][n] = alpha A[m][k] . B[k][n] + beta C",
    .ndims = 3,
    .dim_names = {"m", "n", "k"},
    .nbufs = 3,
    .bufs = {{"A", KL_BUF_IN, 0, 2, -1, 1, KL_BUF_STRIDED},
             {"B", KL_BUF_IN, 2, 1, -1, 1, KL_BUF_STRIDED},
             /* garbage in C: beta 0 must not read it */
             {"C", KL_BUF_INOUT, 0, 1, -1, 1, KL_BUF_STRIDED}},
    .nparams = 2,
    .params = {{"alpha", 1.0f}, {"beta", 0.0f}},
    .flops = kl_op_gemm_flops,
    .bytes = kl_op_gemm_bytes,
    .rate = "GFLOPS",
    .call = call,
    .check = check,
    .bound = "|C - ref| <= 2 (k + 2) u (|alpha| (|A||B|)ij + |beta| |C0ij|), u = 2^-24",
    .bench_shapes = bench_shapes,
    .bench_skips = bench_skips,
    .working_set = NULL,
    .blis_name = "blis",
    .blis_what = "bli_sgemm",
    .blis = baseline,
    .blis_threads_itself = 1,
};
