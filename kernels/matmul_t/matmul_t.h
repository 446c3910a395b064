/* matmul_t: C = alpha op(A).op(B) + beta C (kernellab.h). The naive rung, and the packed rungs
 * (packed.c) that run kernels/matmul/gemm.c's driver with transposed-operand packing. */
#ifndef KL_MATMUL_T_H
#define KL_MATMUL_T_H

#include "variants.h"

#define KL_DECLARE_MATMUL_T(fn)                                                              \
    kl_status fn(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, \
                 const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,    \
                 float *C, ptrdiff_t ldc)

KL_DECLARE_MATMUL_T(kl_matmul_t_naive);
KL_DECLARE_MATMUL_T(kl_matmul_t_avx2);   /* matmul_t/packed.c: the packed driver, one thread */
KL_DECLARE_MATMUL_T(kl_matmul_t_avx512);
KL_DECLARE_MATMUL_T(kl_matmul_t_openmp);
size_t kl_matmul_t_avx2_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_t_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);
size_t kl_matmul_t_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads);

#endif
