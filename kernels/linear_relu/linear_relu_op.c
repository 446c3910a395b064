/* The linear_relu op's descriptor (kernels/ops/ops.h): C[m][n] = relu(A[m][k] . B[k][n] + bias[n]). */
#include "ops.h"
#include "reference.h"

#ifdef KL_OPS_BLIS
#include <blis.h>
#endif

enum { A, B, BIAS, C };

/* The product's 2 m n k (the epilogue's 2 m n are not counted). */
static double flops(const ptrdiff_t *d) { return 2.0 * d[0] * d[1] * d[2]; }

/* A, B and bias read once, C written once. */
static double bytes(const ptrdiff_t *d) {
    return 4.0 * ((double)d[0] * d[2] + (double)d[2] * d[1] + (double)d[1] + (double)d[0] * d[1]);
}

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_linear_relu_run(v, a->d[0], a->d[1], a->d[2], a->buf[A], a->ld[A], a->buf[B],
                              a->ld[B], a->buf[BIAS], a->buf[C], a->ld[C]);
}

/* Row i of C against the float64 oracle (it depends only on row i of A). */
static double check_row(const kl_op_args *a, ptrdiff_t i, ptrdiff_t *where) {
    return kl_check_linear_relu(1, a->d[1], a->d[2], a->buf[A] + i * a->ld[A], a->ld[A], a->buf[B],
                                a->ld[B], a->buf[BIAS], a->buf[C] + i * a->ld[C], a->ld[C], where);
}

/* Sampled, whole rows of C (kl_op_check_rows). */
static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    return kl_op_check_rows(a, sample, a->d[0], (double)a->d[1] * a->d[2], a->ld[C], check_row,
                            where);
}

/* Square sizes, an MLP layer (batch 256, 768 -> 3072 as in a BERT-base feed-forward), and the
 * lesson's 512 x 4096 x 256 (C = 8 MiB: far past L2, where fusing saves a round trip of C). */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t small[][3] = {{64, 64, 64}, {256, 256, 256}, {512, 512, 512},
                                         {256, 3072, 768}};
    static const ptrdiff_t all[][3] = {{64, 64, 64},       {256, 256, 256},  {512, 512, 512},
                                       {1024, 1024, 1024}, {256, 3072, 768}, {512, 4096, 256}};
    const ptrdiff_t(*s)[3] = quick ? small : all;
    size_t count = quick ? sizeof small / sizeof *small : sizeof all / sizeof *all;
    for (size_t i = 0; i < count && i < cap; i++)
        for (int j = 0; j < 3; j++) shapes[i][j] = s[i][j];
    return count;
}

#ifdef KL_OPS_BLIS
/* The unfused way on BLIS: bli_sgemm (row-major: row stride = ld, column stride 1), then one
 * plain pass over C for bias + ReLU on the calling thread, like the unfused variant's pass, and
 * vectorized as that pass is (kernels/linear_relu/common.c says why). */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("vect-cost-model=dynamic")))
#endif
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    (void)lo, (void)hi;
    float one = 1.0f, zero = 0.0f;
    const ptrdiff_t m = a->d[0], n = a->d[1], ldc = a->ld[C];
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, n, a->d[2], &one, a->buf[A], a->ld[A], 1,
              a->buf[B], a->ld[B], 1, &zero, a->buf[C], ldc, 1);
    const float *bias = a->buf[BIAS];
    for (ptrdiff_t i = 0; i < m; i++) {
        float *c = a->buf[C] + i * ldc;
        for (ptrdiff_t j = 0; j < n; j++) {
            float x = c[j] + (bias ? bias[j] : 0.0f);
            c[j] = x < 0.0f ? 0.0f : x; /* NaN kept, as kl_linear_relu */
        }
    }
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_linear_relu_op = {
    .op = KL_OP_LINEAR_RELU,
    .name = "linear_relu",
    .summary = "C[m][n] = relu(A[m][k] . B[k][n] + bias[n])",
    .ndims = 3,
    .dim_names = {"m", "n", "k"},
    .nbufs = 4,
    .bufs = {{"A", KL_BUF_IN, 0, 2, -1, 1, KL_BUF_STRIDED},
             {"B", KL_BUF_IN, 2, 1, -1, 1, KL_BUF_STRIDED},
             {"bias", KL_BUF_IN, KL_DIM_ONE, 1, -1, 1, KL_BUF_OPTIONAL},
             {"C", KL_BUF_OUT, 0, 1, 0, 0, KL_BUF_STRIDED}},
    .nparams = 0,
    .flops = flops,
    .bytes = bytes,
    .rate = "GFLOPS",
    .call = call,
    .check = check,
    .bound = "z = A.B + bias, tol = 2 (k + 2) u (|A||B| + |bias|): |C - z| <= tol where z > tol, "
             "C == 0 where z < -tol, else C in [0, z + tol]",
    .bench_shapes = bench_shapes,
    .bench_skips = NULL,
    .working_set = NULL,
    .blis_name = "blis_relu",
    .blis_what = "bli_sgemm, then a separate bias + ReLU pass over C",
    .blis = baseline,
    .blis_threads_itself = 1,
};
