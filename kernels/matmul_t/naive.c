/* Rung 1: the definition, one dot product per element of C, in the order of the formula.
 *   C[i][j] = alpha * sum_p op(A)(i, p) op(B)(p, j) + beta * C[i][j]
 * op(A)(i, p) is A[i*lda + p], or A[p*lda + i] when A is stored transposed (k x m). */
#include "matmul_t.h"

kl_status kl_matmul_t_naive(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                            float alpha, const float *A, ptrdiff_t lda, const float *B,
                            ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    ptrdiff_t a_row = trans_a ? 1 : lda, a_col = trans_a ? lda : 1; /* strides of op(A) */
    ptrdiff_t b_row = trans_b ? 1 : ldb, b_col = trans_b ? ldb : 1; /* strides of op(B) */
    for (ptrdiff_t i = 0; i < m; i++)
        for (ptrdiff_t j = 0; j < n; j++) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; p++) sum += A[i * a_row + p * a_col] * B[p * b_row + j * b_col];
            float *c = &C[i * ldc + j];
            *c = beta == 0.0f ? alpha * sum : alpha * sum + beta * *c;
        }
    return KL_OK;
    /* END SOLUTION */
}
