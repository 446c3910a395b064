/* Rung 3: AVX-512, 16 floats per instruction; the blend is two mask moves (dy where y > 0,
 * then y where y is NaN), and the tail is one masked load/store of up to 15 lanes. */
#include "relu_backward.h"

#include <immintrin.h>

static inline __m512 step(__m512 y, __m512 dy) {
    __mmask16 pass = _mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_GT_OQ);
    __mmask16 nan = _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q);
    return _mm512_mask_mov_ps(_mm512_maskz_mov_ps(pass, dy), nan, y);
}

kl_status kl_relu_backward_span_avx512(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    /* BEGIN SOLUTION */
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 a = step(_mm512_loadu_ps(y + i), _mm512_loadu_ps(dy + i));
        __m512 b = step(_mm512_loadu_ps(y + i + 16), _mm512_loadu_ps(dy + i + 16));
        _mm512_storeu_ps(dx + i, a);
        _mm512_storeu_ps(dx + i + 16, b);
    }
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dx + i, step(_mm512_loadu_ps(y + i), _mm512_loadu_ps(dy + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(dx + i, m, step(_mm512_maskz_loadu_ps(m, y + i), _mm512_maskz_loadu_ps(m, dy + i)));
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_relu_backward_avx512(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    return kl_relu_backward_span_avx512(n, y, dy, dx);
}
