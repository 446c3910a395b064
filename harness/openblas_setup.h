// OpenBLAS, the second peer: loaded at run time beside BLIS, its core chosen (openblas_core.h)
// before the library's first load, and recorded in bench.json "context".
#pragma once

#include <cstddef>

namespace klb {

// Call once, first thing in main (it may fork a probe: no threads may exist yet). Loads
// libopenblas.so.0 if it can; without it the OpenBLAS benchmarks are not registered and the
// context says why.
void openblas_prepare();
bool openblas_loaded();
// OpenBLAS's own thread count for the calls that follow (its pthread pool, not OpenMP's).
void openblas_set_threads(int threads);
// Row-major C[m][n] = alpha A[m][k] B[k][n] + beta C through cblas_sgemm.
void openblas_sgemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, float alpha,
                    const float *A, std::ptrdiff_t lda, const float *B, std::ptrdiff_t ldb,
                    float beta, float *C, std::ptrdiff_t ldc);
// add_baseline for matmul/openblas and linear_relu/openblas_relu (openblas_peer.cc); nothing
// when OpenBLAS is not loaded. Call after openblas_prepare(), before register_ops().
void register_openblas_peers();

}  // namespace klb
