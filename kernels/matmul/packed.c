/* Rung 4: packed panels and a register-blocked micro-kernel, in plain C.
 * The five-loop driver (gemm.c) packs A and B into the order this kernel reads them; the kernel
 * keeps an MR x NR tile of C in registers for the whole k loop, so each element of A and B
 * loaded from L1/L2 is used NR resp. MR times.
 *
 * Built for the baseline x86-64 target, whose SIMD is SSE: four floats per register, 16
 * registers, no FMA and no broadcast from memory. The tile is 4 x 8: eight 4-float accumulators
 * and room for B's two vectors and a temporary (4 x 12 needs all 16 registers and gcc spills
 * one accumulator to the stack, a store and a load on every k step). A scalar a[i] times a vector
 * of B needs a[i] in all four lanes, and SSE makes that with a shuffle, which competes with the
 * multiplies and adds for the same execution ports: the auto-vectorised scalar 4 x 8 kernel ran
 * at 26-33 GFLOP/s in L1 where this one runs at 40-43 (AMD Zen 4). So the packing stores each
 * element of A four times (a_bcast = 4, gemm.h) and the kernel loads a ready broadcast; the
 * price is an A block four times as large, which the blocking model accounts for (MC shrinks
 * by 4). */
#include "gemm.h"

/* Four floats in one SSE register (a GCC/Clang vector type: plain C the compiler maps to
 * whatever SIMD the target has). may_alias: it reads the packed float arrays. */
typedef float f32x4 __attribute__((vector_size(16), may_alias));

enum { MR = 4, NR = 8, V = 4, NV = NR / V, BCAST = V };

/* c[mr][nr] = alpha * a.b + beta * c.  a[k][MR][BCAST] (broadcast) and b[k][NR] packed. */
static kl_status ukr_4x8(ptrdiff_t k, float alpha, const float *a, const float *b, float beta,
                         float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr) {
    /* BEGIN SOLUTION */
    f32x4 ab[MR][NV] = {{{0}}}; /* the C tile, in 8 registers */
    const f32x4 *av = (const f32x4 *)a, *bv = (const f32x4 *)b;
    for (ptrdiff_t p = 0; p < k; p++, av += MR, bv += NV)
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NV; j++) ab[i][j] += av[i] * bv[j];
    /* Write back only the valid corner: fringe tiles padded with zeros end here. */
    for (ptrdiff_t i = 0; i < mr; i++)
        for (ptrdiff_t j = 0; j < nr; j++) {
            float *cij = &c[i * ldc + j], s = ab[i][j / V][j % V];
            *cij = beta == 0.0f ? alpha * s : alpha * s + beta * *cij;
        }
    return KL_OK;
    /* END SOLUTION */
}

/* Ap[ceil(mc/MR)][kc][MR][BCAST] <- A[mc][kc] (lda): kl_gemm_pack_a's layout with each element
 * repeated BCAST times; rows past mc are zero. mr is MR. */
static void pack_a_bcast(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t lda,
                         float *Ap) {
    (void)mr; /* always MR */
    /* BEGIN SOLUTION */
    for (ptrdiff_t r = 0; r < mc; r += MR, Ap += MR * BCAST * kc) {
        ptrdiff_t rows = mc - r < MR ? mc - r : MR;
        const float *a = A + r * lda;
        for (ptrdiff_t p = 0; p < kc; p++)
            for (ptrdiff_t i = 0; i < MR; i++) {
                float v = i < rows ? a[i * lda + p] : 0.0f;
                for (int l = 0; l < BCAST; l++) Ap[(p * MR + i) * BCAST + l] = v;
            }
    }
    /* END SOLUTION */
}

static const kl_gemm_kernel kernel = {MR, NR, BCAST, ukr_4x8, pack_a_bcast, NULL};

const kl_gemm_kernel *kl_gemm_packed_kernel(void) { return &kernel; }

kl_status kl_matmul_packed(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    return kl_gemm(&kernel, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

size_t kl_matmul_packed_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads; /* single-threaded */
    return kl_gemm_scratch(&kernel, m, n, k, 1);
}

size_t kl_matmul_packed_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_gemm_blocking_list(&kernel, sizes, cap);
}
