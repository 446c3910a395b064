/* matmul, C[m][n] = alpha A[m][k] . B[k][n] + beta C: its rungs, the pieces they share and its
 * dispatch. The five-loop driver of the packed rungs is in gemm.h; their cache blocks in
 * blocking.h. Raw kernels: arguments already checked (variants.h), and alpha != 0, k >= 1
 * (validate.c handles the trivial cases with kl_scale_c). */
#ifndef KL_MATMUL_H
#define KL_MATMUL_H

#include "variants.h"

#define KL_DECLARE_MATMUL(fn)                                                                \
    kl_status fn(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,         \
                 ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,          \
                 ptrdiff_t ldc)

/* ---- the loop rungs ---- */
KL_DECLARE_MATMUL(kl_matmul_naive);
KL_DECLARE_MATMUL(kl_matmul_interchange);
KL_DECLARE_MATMUL(kl_matmul_blocked);
size_t kl_matmul_blocked_blocking(ptrdiff_t *sizes, size_t cap); /* MB, KB, NB */

/* ---- the packed rungs (registry entry points, scratch and blocking functions) ---- */
KL_DECLARE_MATMUL(kl_matmul_packed);
KL_DECLARE_MATMUL(kl_matmul_avx2);
KL_DECLARE_MATMUL(kl_matmul_avx512);
KL_DECLARE_MATMUL(kl_matmul_openmp);
size_t kl_matmul_packed_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_avx2_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_packed_blocking(ptrdiff_t *sizes, size_t cap);
size_t kl_matmul_avx2_blocking(ptrdiff_t *sizes, size_t cap);
size_t kl_matmul_avx512_blocking(ptrdiff_t *sizes, size_t cap);
size_t kl_matmul_openmp_blocking(ptrdiff_t *sizes, size_t cap);
/* Each SIMD rung's no-packing path for small problems (where packing costs more than it saves). */
KL_DECLARE_MATMUL(kl_matmul_avx2_direct);
KL_DECLARE_MATMUL(kl_matmul_avx512_direct);

/* C = beta*C over an m x n tile (beta == 0 writes zeros without reading C). Used when
 * alpha == 0 or k == 0, and by kernels that scale C once before accumulating. */
void kl_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *C, ptrdiff_t ldc);

/* The dispatch (dispatch.c): the SIMD micro-kernel and direct path kl_cpu_isa() allows
 * (AVX-512, else AVX2), chosen once. The openmp rung and linear_relu's fused rung run them; the
 * registry reports their ISA for those rungs. On a CPU without AVX2 the table holds the AVX2
 * ones, never run (the registry marks those rungs unavailable), so their scratch and blocks
 * can still be asked for; in a build without SIMD, NULL. */
struct kl_gemm_kernel;
typedef struct kl_matmul_dsp {
    kl_isa isa;
    const struct kl_gemm_kernel *kernel;
    kl_matmul_fn direct;
} kl_matmul_dsp;
const kl_matmul_dsp *kl_matmul_dispatch(void);
kl_isa kl_matmul_dispatch_isa(void);

#endif
