// OpenBLAS as a peer of the ops that have a GEMM (added to the op table's baselines):
//   matmul/openblas            cblas_sgemm, row-major, on OpenBLAS's own threads;
//   linear_relu/openblas_relu  the same, then one plain bias + ReLU pass over C on the calling
//                              thread: the unfused way, as linear_relu/blis_relu does it.
// Checked against the op's own oracle like every baseline. Not registered when kl_bench could
// not load OpenBLAS (openblas_setup.cc).
#include <cstddef>

#include "common.h"
#include "openblas_setup.h"

namespace klb {
namespace {

// The descriptors' buffer order (kernels/matmul/matmul_op.c, kernels/linear_relu/linear_relu_op.c).
enum { kMatA, kMatB, kMatC };
enum { kLinA, kLinB, kLinBias, kLinC };

void matmul(const kl_op_args &a, std::ptrdiff_t, std::ptrdiff_t) {
    openblas_sgemm(a.d[0], a.d[1], a.d[2], a.p[0], a.buf[kMatA], a.ld[kMatA], a.buf[kMatB],
                   a.ld[kMatB], a.p[1], a.buf[kMatC], a.ld[kMatC]);
}

// The pass is vectorized as the unfused variant's and blis_relu's are (see
// kernels/linear_relu/common.c); NaN is kept, as kl_linear_relu keeps it.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("vect-cost-model=dynamic")))
#endif
void linear_relu(const kl_op_args &a, std::ptrdiff_t, std::ptrdiff_t) {
    const std::ptrdiff_t m = a.d[0], n = a.d[1], ldc = a.ld[kLinC];
    openblas_sgemm(m, n, a.d[2], 1.0f, a.buf[kLinA], a.ld[kLinA], a.buf[kLinB], a.ld[kLinB], 0.0f,
                   a.buf[kLinC], ldc);
    const float *bias = a.buf[kLinBias];
    for (std::ptrdiff_t i = 0; i < m; i++) {
        float *c = a.buf[kLinC] + i * ldc;
        for (std::ptrdiff_t j = 0; j < n; j++) {
            float x = c[j] + (bias ? bias[j] : 0.0f);
            c[j] = x < 0.0f ? 0.0f : x;
        }
    }
}

Baseline peer(kl_op op, const char *name,
              void (*run)(const kl_op_args &, std::ptrdiff_t, std::ptrdiff_t)) {
    Baseline b;
    b.op = op, b.name = name, b.run = run;
    b.threads_itself = true;  // OpenBLAS splits the call over its own pthread pool
    b.set_threads = [](int t) { openblas_set_threads(t); };
    b.available = [] { return openblas_loaded(); };
    return b;
}

}  // namespace

void register_openblas_peers() {
    if (!openblas_loaded()) return;
    add_baseline(peer(KL_OP_MATMUL, "openblas", matmul));
    add_baseline(peer(KL_OP_LINEAR_RELU, "openblas_relu", linear_relu));
}

}  // namespace klb
