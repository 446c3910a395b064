/* Rung 2: AVX2, row by row. A strip of up to 64 columns keeps 8 vector sums in registers while
 * the rows stream past (each row read front to back), then stores them; rows are added in
 * order, so every column's sum is rounded exactly as in the naive rung. Tail columns (< 8):
 * masked loads and stores. */
#include "bias_backward.h"

#include <immintrin.h>

static inline __m256i tail_mask(ptrdiff_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

enum { STRIP = 64 }; /* 8 accumulators of 8 floats: half the 16 ymm registers */

kl_status kl_bias_backward_span_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *dy,
                                     ptrdiff_t ldy, float *db) {
    /* BEGIN SOLUTION */
    ptrdiff_t c = 0;
    for (; c + STRIP <= cols; c += STRIP) {
        __m256 s[8];
        for (int v = 0; v < 8; v++) s[v] = _mm256_setzero_ps();
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *row = dy + r * ldy + c;
            for (int v = 0; v < 8; v++) s[v] = _mm256_add_ps(s[v], _mm256_loadu_ps(row + 8 * v));
        }
        for (int v = 0; v < 8; v++) _mm256_storeu_ps(db + c + 8 * v, s[v]);
    }
    for (; c < cols; c += 8) { /* the last < 64 columns, one vector at a time */
        ptrdiff_t w = cols - c < 8 ? cols - c : 8;
        __m256i m = tail_mask(w);
        __m256 s = _mm256_setzero_ps();
        for (ptrdiff_t r = 0; r < rows; r++) s = _mm256_add_ps(s, _mm256_maskload_ps(dy + r * ldy + c, m));
        _mm256_maskstore_ps(db + c, m, s);
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_bias_backward_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                                float *db) {
    return kl_bias_backward_span_avx2(rows, cols, dy, ldy, db);
}
