/* Rung 2: AVX2, 8 floats per instruction: dx = (y > 0 ? dy : 0) | (y is NaN ? y : 0), two
 * compares and an and/or blend, so the naive rung's NaN rule holds lane by lane. Tail (< 8):
 * masked loads and stores, which never touch the masked-off lanes. */
#include "relu_backward.h"

#include <immintrin.h>

static inline __m256i tail_mask(ptrdiff_t rem) { /* lanes [0, rem) on */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 step(__m256 y, __m256 dy) {
    __m256 pass = _mm256_cmp_ps(y, _mm256_setzero_ps(), _CMP_GT_OQ);
    __m256 nan = _mm256_cmp_ps(y, y, _CMP_UNORD_Q);
    return _mm256_or_ps(_mm256_and_ps(pass, dy), _mm256_and_ps(nan, y));
}

kl_status kl_relu_backward_span_avx2(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    /* BEGIN SOLUTION */
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 a = step(_mm256_loadu_ps(y + i), _mm256_loadu_ps(dy + i));
        __m256 b = step(_mm256_loadu_ps(y + i + 8), _mm256_loadu_ps(dy + i + 8));
        _mm256_storeu_ps(dx + i, a);
        _mm256_storeu_ps(dx + i + 8, b);
    }
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dx + i, step(_mm256_loadu_ps(y + i), _mm256_loadu_ps(dy + i)));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(dx + i, m, step(_mm256_maskload_ps(y + i, m), _mm256_maskload_ps(dy + i, m)));
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_relu_backward_avx2(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    return kl_relu_backward_span_avx2(n, y, dy, dx);
}
