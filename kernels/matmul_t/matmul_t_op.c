/* The matmul_t op's descriptor (kernels/ops/ops.h), as the weight gradient dB = At . dC:
 * C[m][n] = alpha op(A) . B + beta C with A stored k x m and transposed (trans_a = 1,
 * trans_b = 0). The other three transpose pairs are swept by tests/test_training.c. */
#include "ops.h"
#include "reference.h"

enum { A, B, C };

static kl_status call(const kl_variant *v, const kl_op_args *a) {
    return kl_matmul_t_run(v, 1, 0, a->d[0], a->d[1], a->d[2], a->p[0], a->buf[A], a->ld[A],
                           a->buf[B], a->ld[B], a->p[1], a->buf[C], a->ld[C]);
}

static double check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    (void)sample; /* the training shapes are small: always all of it */
    const float *C0 = a->initial[C] ? a->initial[C] : a->buf[C]; /* beta 0 reads no C0 */
    return kl_check_matmul_t(1, 0, a->d[0], a->d[1], a->d[2], a->p[0], a->buf[A], a->ld[A],
                             a->buf[B], a->ld[B], a->p[1], C0, a->buf[C], a->ld[C], where);
}

/* The MLP's weight gradients at batch 128 (modules/05_mlp): 784x256, 256x128, 128x10. */
static size_t bench_shapes(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    static const ptrdiff_t all[3][3] = {{784, 256, 128}, {256, 128, 128}, {128, 10, 128}};
    size_t count = quick ? 1 : 3;
    for (size_t i = 0; i < count && i < cap; i++)
        for (int j = 0; j < 3; j++) shapes[i][j] = all[quick ? 1 : i][j];
    return count;
}

#ifdef KL_OPS_BLIS
static void baseline(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi) {
    (void)lo, (void)hi;
    kl_op_blis_gemm(a, 1); /* BLIS takes the transpose as a flag on A stored k x m */
}
#else
#define baseline NULL
#endif

const kl_op_desc kl_matmul_t_op = {
    .op = KL_OP_MATMUL_T,
    .name = "matmul_t",
    .summary = "C[m][n] = alpha At[k][m]^T . B[k][n] + beta C (dB = At . dC)",
    .ndims = 3,
    .dim_names = {"m", "n", "k"},
    .nbufs = 3,
    .bufs = {{"A", KL_BUF_IN, 2, 0, -1, 1, KL_BUF_STRIDED}, /* stored k x m */
             {"B", KL_BUF_IN, 2, 1, -1, 1, KL_BUF_STRIDED},
             {"C", KL_BUF_INOUT, 0, 1, -1, 1, KL_BUF_STRIDED}},
    .nparams = 2,
    .params = {{"alpha", 1.0f}, {"beta", 0.0f}},
    .flops = kl_op_gemm_flops,
    .bytes = kl_op_gemm_bytes,
    .rate = "GFLOPS",
    .call = call,
    .check = check,
    .bound = "matmul's: |C - ref| <= 2 (k + 2) u (|alpha| (|op(A)||B|)ij + |beta| |C0ij|)",
    .bench_shapes = bench_shapes,
    .blis_name = "blis",
    .blis_what = "bli_sgemm with BLIS_TRANSPOSE on A",
    .blis = baseline,
    .blis_threads_itself = 1,
};
