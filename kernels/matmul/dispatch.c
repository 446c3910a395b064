/* matmul's dispatch table (matmul.h), compiled without SIMD flags: any CPU may ask it. */
#include "gemm.h"

static kl_matmul_dsp fill(void) {
    kl_matmul_dsp d = {KL_ISA_SCALAR, NULL, NULL};
#ifdef KL_HAVE_SIMD
    /* without AVX2 too: the registry sizes those rungs' scratch and blocks from it */
    d = (kl_matmul_dsp){KL_ISA_AVX2, &kl_gemm_avx2_kernel, kl_matmul_avx2_direct};
    if (kl_cpu_isa() >= KL_ISA_AVX512)
        d = (kl_matmul_dsp){KL_ISA_AVX512, kl_gemm_avx512_kernel(), kl_matmul_avx512_direct};
#endif
    return d;
}

KL_DISPATCH_TABLE(kl_matmul_dsp, kl_matmul_dispatch, fill)

kl_isa kl_matmul_dispatch_isa(void) { return kl_matmul_dispatch()->isa; }

/* C = beta*C, the trivial case of every rung (validate.c) and the first step of some. */
void kl_scale_c(ptrdiff_t m, ptrdiff_t n, float beta, float *C, ptrdiff_t ldc) {
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++)
            C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}
