// %% [markdown]
// # Module 05: Training an MLP
//
// The capstone. Every op so far ran forward only; here each one gets its backward pass, a
// loss and an optimizer join them, and the lab's own kernels train a real network on
// Fashion-MNIST: 784 → 256 → LayerNorm → ReLU → 128 → LayerNorm → ReLU → 10, softmax
// cross-entropy, SGD with momentum. `build/modules/05_mlp/train` runs it (one line per epoch,
// then `test_accuracy=0.xxxx epoch_s=...`); `scripts/train_peer` runs the same model, start and
// batch order in PyTorch, and `scripts/train_compare` runs both, interleaved.
//
// **Learning objectives:**
// - Derive and build the backward pass of each op: matmul with a transposed operand (the
//   packing absorbs the transpose), ReLU, LayerNorm from the saved mean and rstd, the bias
//   (column sums), and softmax with cross-entropy; then the SGD-with-momentum step.
// - Test each one twice: against a float64 oracle, and by a finite-difference gradient check
//   of the forward op it differentiates.
// - Keep a threaded reduction (dgamma, dbeta, the loss) deterministic for a fixed thread count.
// - Count a training step's flops and bytes, and its memory: weights, gradients, optimizer
//   state, activations, scratch; check the count with Valgrind Massif.
// - Measure the ladder on a real workload: the same step with every op at naive, SIMD and
//   OpenMP rungs, and beside PyTorch.

// %% [code]
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "mlp.h"
#include "reference.h"

// %% [markdown]
// ## Part 1: Foundations
//
// ### The chain rule, one layer at a time
// With a scalar loss L, the backward pass carries dL/d(output) of each op back to dL/d(input)
// and dL/d(parameters). For the layer `z = x·W + b` (x[B][in], W[in][out]):
//
//     dW = xᵀ · dz      (in × out, summed over the batch: a matmul with A transposed)
//     db = Σ_rows dz    (column sums)
//     dx = dz · Wᵀ      (a matmul with B transposed; the first layer skips it)
//
// ReLU passes dy where its output was positive. LayerNorm, with xhat = (x - mean)·rstd and
// g = gamma·dy, gives dx = rstd·(g - mean_c(g) - xhat·mean_c(g·xhat)): the two row means are
// the price of every output depending on the whole row. Softmax with cross-entropy, averaged
// over B rows, collapses to dz = (softmax(z) - onehot(label)) / B, and its forward subtracts the
// row max first so no exp overflows.
//
// ### The transposed matmul costs nothing extra
// The packed GEMM of Module 01 copies every block of A and B into the micro-kernel's order
// anyway. Reading Aᵀ instead of A changes only that copy (`kl_gemm_pack_at`: for Aᵀ a panel row
// is a contiguous run, cheaper than the gather of the untransposed pack), so dW and dx run on
// the very same micro-kernels.
//
// ### Work per step (batch B = 128)
// Forward 2·B·(784·256 + 256·128 + 128·10) = 60 MFLOP. Backward: the three dW are the same
// 60 MFLOP again, dx of layers 2 and 3 another 2·B·(256·128 + 128·10) = 9 MFLOP (the input
// layer needs no dx): about 129 MFLOP
// per step, 60.5 GFLOP per epoch of 469 steps. At this machine's packed matmul speed (Module
// 01) an epoch is about a second on one core; the small ops (LayerNorm, ReLU, the optimizer
// over 235,914 parameters) add memory traffic, not flops.

// %% [code] {"kernel": "kernels/matmul_t/naive.c", "grade_id": "matmul_t_naive", "points": 0, "solution": true}
// The implementation lives in kernels/matmul_t/naive.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing matmul_t: the oracle, and the gradient of a matmul
// `kl_lesson_check_case` runs a rung through the op table (kernels/ops/ops.h) against the
// float64 oracle; the op's descriptor is the weight gradient Aᵀ·B. The gradient check uses
// matmul_t to form dL/dA = R·Bᵀ of L = Σ R∘(A·B) and compares it with central differences.

// %% [code] {"grade_id": "test_matmul_t_naive", "points": 2, "locked": true}
/* L = sum(R * (A.B)) by the float64 oracle; its central difference in A[i]. */
static double fd_matmul(float *A, const float *B, const float *R, ptrdiff_t m, ptrdiff_t n,
                        ptrdiff_t k, ptrdiff_t i) {
    double *out = malloc(sizeof(double) * (size_t)(m * n)), L[2];
    float a0 = A[i], h = 1e-2f;
    for (int s = 0; s < 2; s++) {
        A[i] = s ? a0 - h : a0 + h;
        kl_ref_matmul(m, n, k, 1.0, A, k, B, n, 0.0, NULL, n, out);
        L[s] = 0;
        for (ptrdiff_t e = 0; e < m * n; e++) L[s] += R[e] * out[e];
    }
    A[i] = a0;
    free(out);
    return (L[0] - L[1]) / ((double)(a0 + h) - (double)(a0 - h));
}

static int gradcheck_matmul_t(const char *variant) {
    enum { M = 9, N = 7, K = 11 };
    float A[M * K], B[K * N], R[M * N], dA[M * K];
    unsigned long long s = 5;
    for (int i = 0; i < M * K; i++) A[i] = kl_lesson_uniform(&s);
    for (int i = 0; i < K * N; i++) B[i] = kl_lesson_uniform(&s);
    for (int i = 0; i < M * N; i++) R[i] = kl_lesson_uniform(&s);
    const kl_variant *v = kl_variant_find(KL_OP_MATMUL_T, variant);
    kl_status st = kl_matmul_t_run(v, 0, 1, M, K, N, 1.0f, R, N, B, N, 0.0f, dA, K); /* R.Bt */
    if (st != KL_OK) return KL_FAIL("matmul_t/%s: %s", variant, kl_status_str(st));
    for (ptrdiff_t i = 0; i < M * K; i += 7) {
        double fd = fd_matmul(A, B, R, M, N, K, i);
        if (fabs(fd - dA[i]) > 1e-4 * (1 + fabs(fd)))
            return KL_FAIL("matmul_t/%s: dA[%td] = %g, finite difference %g", variant, i, dA[i], fd);
    }
    return 0;
}

static int test_matmul_t_naive(void) {
    return kl_lesson_check_case(KL_OP_MATMUL_T, "naive", 17, 13, 31, NULL) ||
           gradcheck_matmul_t("naive");
}

// %% [code] {"kernel": "kernels/matmul_t/packed.c", "grade_id": "matmul_t_packed", "points": 0, "solution": true}
// The SIMD and OpenMP rungs pass Module 01's micro-kernels to kl_gemm_t (kernels/matmul/gemm.c).

// %% [code] {"grade_id": "test_matmul_t_packed", "points": 3, "locked": true}
static int test_matmul_t_packed(void) {
    static const char *const rungs[] = {"avx2", "avx512", "openmp"};
    static const ptrdiff_t shapes[][3] = {{1, 1, 1}, {13, 17, 5}, {784, 256, 128}, {129, 33, 257}};
    for (size_t r = 0; r < 3; r++) {
        if (kl_lesson_skip_rung(KL_OP_MATMUL_T, rungs[r], 0)) continue;
        for (size_t i = 0; i < 4; i++)
            if (kl_lesson_check_case(KL_OP_MATMUL_T, rungs[r], shapes[i][0], shapes[i][1],
                                     shapes[i][2], NULL))
                return 1;
        if (gradcheck_matmul_t(rungs[r])) return 1;
    }
    return 0;
}

// %% [code] {"kernel": "kernels/relu_backward/avx2.c", "grade_id": "relu_backward_avx2", "points": 0, "solution": true}
// dx = dy where y > 0: a compare and a blend per 8 floats (naive.c, avx512.c, openmp.c beside it).

// %% [code] {"grade_id": "test_relu_backward", "points": 2, "locked": true}
static int test_relu_backward(void) {
    static const char *const rungs[] = {"naive", "avx2", "avx512", "openmp"};
    for (size_t r = 0; r < 4; r++) {
        if (kl_lesson_skip_rung(KL_OP_RELU_BACKWARD, rungs[r], 0)) continue;
        static const ptrdiff_t sizes[] = {1, 7, 8, 9, 17, 1000, 128 * 256 + 3};
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++)
            if (kl_lesson_check_case(KL_OP_RELU_BACKWARD, rungs[r], sizes[i], 0, 0, NULL)) return 1;
    }
    return 0;
}

// %% [code] {"kernel": "kernels/layernorm_backward/naive.c", "grade_id": "layernorm_backward_naive", "points": 0, "solution": true}
// Two passes per row: the two sums, then dx and the running dgamma, dbeta (avx2.c, openmp.c).

// %% [markdown]
// ### Testing LayerNorm backward by finite differences
// The forward oracle `kl_ref_layernorm` gives L = Σ R∘layernorm(x) in double; moving one x by
// ±h changes L by about 2h·dL/dx. The backward rung, fed dy = R and the forward's own mean and
// rstd, must agree to the difference quotient's accuracy (~h² curvature).

// %% [code] {"grade_id": "test_layernorm_backward", "points": 3, "locked": true}
static int gradcheck_layernorm(const char *variant) {
    enum { ROWS = 5, COLS = 33 };
    float x[ROWS * COLS], g[COLS], b[COLS], R[ROWS * COLS], y[ROWS * COLS], mean[ROWS], rstd[ROWS];
    float dx[ROWS * COLS], dg[COLS], db[COLS];
    double yd[ROWS * COLS], md[ROWS], rd[ROWS];
    unsigned long long s = 11;
    for (int i = 0; i < ROWS * COLS; i++) x[i] = 0.5f + kl_lesson_uniform(&s), R[i] = kl_lesson_uniform(&s);
    for (int c = 0; c < COLS; c++) g[c] = 1.0f + 0.5f * kl_lesson_uniform(&s), b[c] = kl_lesson_uniform(&s);
    kl_layernorm_variant("naive", ROWS, COLS, x, g, b, 1e-5f, y, mean, rstd);
    kl_status st = kl_layernorm_backward_run(kl_variant_find(KL_OP_LAYERNORM_BACKWARD, variant),
                                             ROWS, COLS, x, g, mean, rstd, R, dx, dg, db);
    if (st != KL_OK) return KL_FAIL("layernorm_backward/%s: %s", variant, kl_status_str(st));
    for (int i = 0; i < ROWS * COLS; i += 13) {
        float x0 = x[i], h = 1e-3f;
        double L[2];
        for (int side = 0; side < 2; side++) {
            x[i] = side ? x0 - h : x0 + h;
            kl_ref_layernorm(ROWS, COLS, x, g, b, 1e-5, yd, md, rd);
            L[side] = 0;
            for (int e = 0; e < ROWS * COLS; e++) L[side] += R[e] * yd[e];
        }
        x[i] = x0;
        double fd = (L[0] - L[1]) / ((double)(x0 + h) - (double)(x0 - h));
        if (fabs(fd - dx[i]) > 2e-3 * (1 + fabs(fd)))
            return KL_FAIL("layernorm_backward/%s: dx[%d] = %g, finite difference %g", variant, i,
                           dx[i], fd);
    }
    return 0;
}

static int test_layernorm_backward(void) {
    static const char *const rungs[] = {"naive", "avx2", "openmp"};
    for (size_t r = 0; r < 3; r++) {
        if (kl_lesson_skip_rung(KL_OP_LAYERNORM_BACKWARD, rungs[r], 0)) continue;
        if (kl_lesson_check_case(KL_OP_LAYERNORM_BACKWARD, rungs[r], 7, 9, 0, NULL) ||
            kl_lesson_check_case(KL_OP_LAYERNORM_BACKWARD, rungs[r], 128, 256, 0, NULL) ||
            kl_lesson_check_case(KL_OP_LAYERNORM_BACKWARD, rungs[r], 129, 257, 0, NULL) ||
            gradcheck_layernorm(rungs[r]))
            return 1;
    }
    return 0;
}

// %% [code] {"kernel": "kernels/softmax_xent/naive.c", "grade_id": "softmax_xent_naive", "points": 0, "solution": true}
// The loss and its gradient, one row at a time; avx2.c adds a vector exp, openmp.c splits rows.

// %% [code] {"grade_id": "test_softmax_xent", "points": 3, "locked": true}
static int test_softmax_xent(void) {
    static const char *const rungs[] = {"naive", "avx2", "openmp"};
    for (size_t r = 0; r < 3; r++) {
        if (kl_lesson_skip_rung(KL_OP_SOFTMAX_XENT, rungs[r], 0)) continue;
        if (kl_lesson_check_case(KL_OP_SOFTMAX_XENT, rungs[r], 128, 10, 0, NULL) ||
            kl_lesson_check_case(KL_OP_SOFTMAX_XENT, rungs[r], 3, 17, 0, NULL) ||
            kl_lesson_check_case(KL_OP_SOFTMAX_XENT, rungs[r], 2000, 10, 0, NULL))
            return 1;
        /* the gradient of the mean loss, by central differences of the float64 oracle */
        float z[4 * 10], dz[4 * 10], loss;
        int labels[4] = {3, 0, 9, 5};
        unsigned long long s = 3;
        for (int i = 0; i < 40; i++) z[i] = 3 * kl_lesson_uniform(&s);
        kl_softmax_xent_run(kl_variant_find(KL_OP_SOFTMAX_XENT, rungs[r]), 4, 10, z, labels, &loss, dz);
        for (int i = 0; i < 40; i += 3) {
            float z0 = z[i], h = 1e-2f;
            z[i] = z0 + h;
            double lp = kl_ref_softmax_xent(4, 10, z, labels, NULL);
            z[i] = z0 - h;
            double lm = kl_ref_softmax_xent(4, 10, z, labels, NULL);
            z[i] = z0;
            double fd = (lp - lm) / ((double)(z0 + h) - (double)(z0 - h));
            if (fabs(fd - dz[i]) > 1e-4 + 1e-3 * fabs(fd))
                return KL_FAIL("softmax_xent/%s: dz[%d] = %g, finite difference %g", rungs[r], i, dz[i], fd);
        }
    }
    return 0;
}

// %% [code] {"kernel": "kernels/sgd_momentum/avx2.c", "grade_id": "sgd_momentum_avx2", "points": 0, "solution": true}
// Three FMAs per parameter (naive.c, openmp.c beside it); bias_backward/ sums the columns of dz.

// %% [code] {"grade_id": "test_sgd_and_bias", "points": 2, "locked": true}
static int test_sgd_and_bias(void) {
    static const char *const rungs[] = {"naive", "avx2", "openmp"};
    for (size_t r = 0; r < 3; r++) {
        if (!kl_lesson_skip_rung(KL_OP_SGD_MOMENTUM, rungs[r], 0) &&
            (kl_lesson_check_case(KL_OP_SGD_MOMENTUM, rungs[r], 17, 0, 0, NULL) ||
             kl_lesson_check_case(KL_OP_SGD_MOMENTUM, rungs[r], 235914, 0, 0, NULL)))
            return 1;
        if (!kl_lesson_skip_rung(KL_OP_BIAS_BACKWARD, rungs[r], 0) &&
            (kl_lesson_check_case(KL_OP_BIAS_BACKWARD, rungs[r], 128, 10, 0, NULL) ||
             kl_lesson_check_case(KL_OP_BIAS_BACKWARD, rungs[r], 129, 257, 0, NULL)))
            return 1;
    }
    return 0;
}

// %% [markdown]
// ### The ladder on a real workload
// One training step (batch 128, synthetic images: no dataset needed) with every op at the
// same rung family, median of a few steps. Printed only: tests never assert on time.

// %% [code] {"grade_id": "measure_step_ladder", "points": 0, "locked": true}
static int measure_step_ladder(void) {
    static const char *const families[] = {"naive", "simd", "openmp", "best"};
    enum { B = 128, STEPS = 5 };
    mlp_data d = {B, calloc(B, MLP_IN), calloc(B, sizeof(int))};
    ptrdiff_t idx[B];
    for (int r = 0; r < B; r++) idx[r] = r, d.labels[r] = r % 10;
    for (size_t f = 0; f < 4; f++) {
        mlp_ops ops;
        char err[256];
        mlp m;
        if (mlp_ops_for(families[f], &ops, err, sizeof err) || mlp_init(&m, B, 1, NULL) != KL_OK) {
            printf("    %-7s (not available here)\n", families[f]);
            continue;
        }
        double t[STEPS];
        float loss;
        mlp_gather(&m, &d, idx, B);
        for (int s = 0; s < STEPS; s++) {
            double t0 = kl_lesson_now();
            mlp_step(&m, &ops, B, 0.01f, 0.9f, 0.0f, &loss);
            t[s] = kl_lesson_now() - t0;
        }
        for (int i = 0; i < STEPS; i++) /* insertion sort: 5 values */
            for (int j = i; j > 0 && t[j] < t[j - 1]; j--) { double x = t[j]; t[j] = t[j - 1]; t[j - 1] = x; }
        printf("    %-7s step %8.3f ms  (%5.1f GFLOP/s at 129 MFLOP/step)  threads=%d\n",
               families[f], 1e3 * t[STEPS / 2], 0.129 / t[STEPS / 2], kl_get_num_threads());
        mlp_free(&m);
    }
    mlp_data_free(&d);
    return 0;
}

// %% [markdown]
// ## Memory profiling
// A training step holds, at batch B with P = 235,914 parameters:
//
//     weights, gradients, momentum   3 × 4P          = 2,830,968 B
//     activations and gradients      4·B·1961        = 1,004,032 B at B = 128
//                                    (x 784, z1 h1 d1 3×256, z2 h2 d2 3×128, logits and
//                                     dlogits 2×10, mean and rstd 4, the label 1 per row)
//     the largest single-call scratch (GEMM packing, LayerNorm backward partials)
//
// `build/modules/05_mlp/train_step --predict` prints that sum and `scripts/profile_training`
// holds one step under Massif to it (bench.sh puts the table in the report). The test below
// checks the one training op that allocates per call, LayerNorm backward on a team (its
// per-thread dgamma, dbeta partials), against its `scratch_bytes` formula.

// %% [code] {"grade_id": "test_memory_layernorm_backward", "points": 2, "locked": true}
static int test_memory_layernorm_backward(void) {
    if (!kl_lesson_valgrind_usable()) {
        printf("    SKIP: valgrind is not installed, or this is a sanitizer build\n");
        return 0;
    }
    const kl_variant *v = kl_variant_find(KL_OP_LAYERNORM_BACKWARD, "openmp");
    if (!v || !kl_variant_available(v)) return 0;
    const int threads = kl_get_num_threads();
    size_t io = kl_lesson_workload_bytes("layernorm_backward", 128, 256, 0);
    size_t scratch = v->scratch_bytes(128, 256, 0, threads);
    long long peak = kl_lesson_massif_peak("layernorm_backward", "openmp", 128, 256, 0);
    printf("    openmp 128x256 threads=%d: peak %lld B = buffers %zu + %lld (scratch formula %zu)\n",
           threads, peak, io, peak - (long long)io, scratch);
    if (peak < 0) return KL_FAIL("the Massif run failed");
    if (peak <= (long long)io) return KL_FAIL("peak %lld <= buffers %zu: Massif missed the run", peak, io);
    if (peak > (long long)(io + scratch + 4096 + 1024 * (size_t)threads))
        return KL_FAIL("peak %lld > buffers %zu + scratch %zu + allowance", peak, io, scratch);
    return 0;
}

// %% [markdown]
// ## Complexity
// - **Time** per step: 3 matmuls forward, 5 backward (no dx for the input layer): about
//   129 MFLOP at B = 128, O(B·Σ in·out); everything else is O(B·width) or O(P) and bound by
//   memory: LayerNorm backward reads x and dy and writes dx (12 bytes per element), the
//   optimizer reads w, g, v and writes w, v (20 bytes per parameter, 4.7 MB per step).
// - **Space**: 12P bytes of parameters and their state, independent of B; activations grow
//   linearly in B. At B = 128 both are ~1-3 MB: the whole model lives in L2 + L3.
// - **Determinism**: every reduction across threads (dgamma, dbeta, the loss) is summed per
//   thread and then in thread order, so a fixed thread count gives the same bits every run.

// %% [markdown]
// ## Production context
// - **PyTorch autograd** records each forward op and replays its backward formula; `nn.Linear`
//   backward is two GEMMs with transposed operands (`addmm` with `.t()` views: no copy, the
//   BLAS or oneDNN packing absorbs the stride, exactly as `kl_gemm_pack_at` does here).
//   `F.cross_entropy` fuses log-softmax and NLL for the same overflow reason as softmax_xent.
// - **Fused optimizers**: `torch.optim.SGD(foreach=True)` and the fused AdamW update all
//   parameters in a few multi-tensor kernels; keeping every parameter in one flat array, as
//   mlp.c does, makes that one call.
// - **llm.c** trains GPT-2 in plain C with the same structure: one parameter block, one
//   gradient block, hand-written backward passes checked against PyTorch.

// %% [code] {"grade_id": "run_all_tests", "points": 0, "locked": true}
int main(int argc, char **argv) {
    static const kl_lesson_test tests[] = {
        {"test_matmul_t_naive", 2, test_matmul_t_naive},
        {"test_matmul_t_packed", 3, test_matmul_t_packed},
        {"test_relu_backward", 2, test_relu_backward},
        {"test_layernorm_backward", 3, test_layernorm_backward},
        {"test_softmax_xent", 3, test_softmax_xent},
        {"test_sgd_and_bias", 2, test_sgd_and_bias},
        {"measure_step_ladder", 0, measure_step_ladder},
        {"test_memory_layernorm_backward", 2, test_memory_layernorm_backward},
    };
    return kl_lesson_main(argc, argv, "05_mlp", tests, sizeof tests / sizeof tests[0]);
}

// %% [markdown]
// ## ML systems thinking
// 1. The first layer's dx is never computed. How many flops per step does that save, and
//    which other gradients could a frozen layer skip?
// 2. At B = 128 the optimizer moves 4.7 MB per step while the matmuls do 129 MFLOP. Using
//    Module 00's roofline for this machine, what fraction of a step should the optimizer take,
//    and what would change it: a larger batch, AdamW (two state arrays), bf16 weights?
// 3. dgamma sums over the batch. Why does splitting rows across threads need per-thread
//    partials, and why are they added in thread order rather than with atomics?
// 4. Why does kernellab's epoch beat PyTorch's on this model? Name the per-op costs PyTorch
//    pays that a fixed C step does not, and the batch size above which you expect them to stop
//    mattering.

// %% [markdown]
// ## Summary
// - Backward passes are more of the same kernels: transposed matmuls on the packed GEMM, a
//   select, two row reductions, column sums, a fused softmax-loss, a three-FMA update.
// - Each rung is checked against a float64 oracle and by finite differences of its forward.
// - One flat parameter block, fixed-order reductions and a shared seed make the run
//   deterministic and directly comparable with PyTorch, step for step.
