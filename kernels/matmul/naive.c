/* Rung 1: the textbook triple loop.
 * C[m][n] = alpha * A[m][k] . B[k][n] + beta * C[m][n], row-major with leading dimensions.
 * The inner loop walks B down a column (stride ldb): every step touches a new cache line,
 * which is why this rung is bound by memory, not by arithmetic. */
#include "matmul.h"

kl_status kl_matmul_naive(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                          ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                          ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            float sum = 0.0f;
            for (ptrdiff_t p = 0; p < k; p++)
                sum += A[i * lda + p] * B[p * ldb + j];
            float *c = &C[i * ldc + j];
            *c = beta == 0.0f ? alpha * sum : alpha * sum + beta * *c; /* beta == 0: C not read */
        }
    }
    return KL_OK;
    /* END SOLUTION */
}
