/* Rung 3: AVX2, 8 floats per instruction, 4 vectors per iteration (32 floats) so loads,
 * max and stores of independent vectors overlap. Tail (< 8 floats): masked
 * _mm256_maskload_ps / _mm256_maskstore_ps, which never touch the masked-off lanes.
 *
 * NaN rule: vmaxps returns its SECOND operand when either operand is NaN, so
 * _mm256_max_ps(zero, x) gives x (the NaN) and _mm256_max_ps(x, zero) would give 0.
 * We write max(zero, x) on purpose. -Inf gives 0; max(0, -0) gives -0 (sign unspecified).
 *
 * Streaming: out of place and large (n >= kl_relu_stream_min()), y is written with
 * non-temporal stores: no read-for-ownership of y's lines, and x is not evicted from cache
 * by y. Never in place (the line was just read, it is in cache) and never small (y would
 * be wanted in cache by the next layer). NT stores need 32-byte aligned y: a short
 * unaligned head is done first. */
#include "relu.h"

#include <immintrin.h>
#include <stdint.h>

static inline __m256i tail_mask(ptrdiff_t rem) { /* lanes [0, rem) on, 0 <= rem < 8 */
    /* BEGIN SOLUTION */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    /* END SOLUTION */
}

kl_status kl_relu_span_avx2(ptrdiff_t n, const float *x, float *y, int stream) {
    /* BEGIN SOLUTION */
    const __m256 zero = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    if (stream && x != y && ((uintptr_t)y & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)(((32 - ((uintptr_t)y & 31)) & 31) / sizeof(float));
        for (; i < head && i < n; i++) y[i] = !(x[i] <= 0.0f) ? x[i] : 0.0f;
        for (; i + 32 <= n; i += 32) {
            __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
            __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
            _mm256_stream_ps(y + i, _mm256_max_ps(zero, a));
            _mm256_stream_ps(y + i + 8, _mm256_max_ps(zero, b));
            _mm256_stream_ps(y + i + 16, _mm256_max_ps(zero, c));
            _mm256_stream_ps(y + i + 24, _mm256_max_ps(zero, d));
        }
        _mm_sfence(); /* order the streamed stores before anything the caller does next */
    }
    for (; i + 32 <= n; i += 32) {
        __m256 a = _mm256_loadu_ps(x + i), b = _mm256_loadu_ps(x + i + 8);
        __m256 c = _mm256_loadu_ps(x + i + 16), d = _mm256_loadu_ps(x + i + 24);
        _mm256_storeu_ps(y + i, _mm256_max_ps(zero, a));
        _mm256_storeu_ps(y + i + 8, _mm256_max_ps(zero, b));
        _mm256_storeu_ps(y + i + 16, _mm256_max_ps(zero, c));
        _mm256_storeu_ps(y + i + 24, _mm256_max_ps(zero, d));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_max_ps(zero, _mm256_loadu_ps(x + i)));
    if (i < n) {
        __m256i m = tail_mask(n - i);
        _mm256_maskstore_ps(y + i, m, _mm256_max_ps(zero, _mm256_maskload_ps(x + i, m)));
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_relu_avx2(ptrdiff_t n, const float *x, float *y) {
    return kl_relu_span_avx2(n, x, y, x != y && n >= kl_relu_stream_min());
}
