/* Rung 3b: AVX-512, 16 floats per instruction; the same structure as avx2.c, with the tail
 * done by one masked load/store (__mmask16) instead of a mask vector.
 * It mirrors avx2.c line for line and is only ever called when kl_cpu_isa() reports avx512
 * (the tests sweep it wherever the CPU has AVX-512).
 * NaN rule: _mm512_max_ps(zero, x) returns x when x is NaN (second operand), as in avx2.c. */
#include "relu.h"

#include <immintrin.h>
#include <stdint.h>

kl_status kl_relu_span_avx512(ptrdiff_t n, const float *x, float *y, int stream) {
    /* BEGIN SOLUTION */
    const __m512 zero = _mm512_setzero_ps();
    ptrdiff_t i = 0;
    if (stream && x != y && ((uintptr_t)y & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)(((64 - ((uintptr_t)y & 63)) & 63) / sizeof(float));
        if (head > n) head = n;
        if (head > 0) { /* one masked op aligns y to 64 bytes */
            __mmask16 m = (__mmask16)((1u << head) - 1u);
            _mm512_mask_storeu_ps(y, m, _mm512_max_ps(zero, _mm512_maskz_loadu_ps(m, x)));
            i = head;
        }
        for (; i + 64 <= n; i += 64) {
            __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
            __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
            _mm512_stream_ps(y + i, _mm512_max_ps(zero, a));
            _mm512_stream_ps(y + i + 16, _mm512_max_ps(zero, b));
            _mm512_stream_ps(y + i + 32, _mm512_max_ps(zero, c));
            _mm512_stream_ps(y + i + 48, _mm512_max_ps(zero, d));
        }
        _mm_sfence();
    }
    for (; i + 64 <= n; i += 64) {
        __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + i + 16);
        __m512 c = _mm512_loadu_ps(x + i + 32), d = _mm512_loadu_ps(x + i + 48);
        _mm512_storeu_ps(y + i, _mm512_max_ps(zero, a));
        _mm512_storeu_ps(y + i + 16, _mm512_max_ps(zero, b));
        _mm512_storeu_ps(y + i + 32, _mm512_max_ps(zero, c));
        _mm512_storeu_ps(y + i + 48, _mm512_max_ps(zero, d));
    }
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, _mm512_max_ps(zero, _mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, m, _mm512_max_ps(zero, _mm512_maskz_loadu_ps(m, x + i)));
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_relu_avx512(ptrdiff_t n, const float *x, float *y) {
    return kl_relu_span_avx512(n, x, y, x != y && n >= kl_relu_stream_min());
}
