/* Rung 4b: AVX-512 row kernel, 16 floats per instruction; avx2.c's structure line for line
 * (read that file's comment for the passes and the cancellation argument), with tails done
 * by __mmask16 masked loads/stores. UNTESTED on the machine it was written on (Zen 3 has no
 * AVX-512); it is only called when kl_cpu_isa() reports avx512. */
#include "ln_row.h"

#include <immintrin.h>
#include <stdint.h>

static inline __mmask16 tail_mask(ptrdiff_t rem) { return (__mmask16)((1u << rem) - 1u); }

/* 16 float lanes -> added into 8 double lanes */
static inline __m512d fold(__m512d acc, __m512 v) {
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
}

/* sum over len floats of (x - s), the shift on the FMA pipes (x * 1 - s), as in avx2.c */
static inline double sum_shifted(ptrdiff_t len, const float *x, float s) {
    const __m512 ns = _mm512_set1_ps(-s), one = _mm512_set1_ps(1.0f);
    __m512d acc = _mm512_setzero_pd();
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 256 ? len : i + 256;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        for (; i + 64 <= end; i += 64) {
            a0 = _mm512_add_ps(a0, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), one, ns));
            a1 = _mm512_add_ps(a1, _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), one, ns));
            a2 = _mm512_add_ps(a2, _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 32), one, ns));
            a3 = _mm512_add_ps(a3, _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), one, ns));
        }
        acc = fold(acc, _mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    }
    __m512 a = _mm512_setzero_ps();
    for (; i + 16 <= len; i += 16) a = _mm512_add_ps(a, _mm512_fmadd_ps(_mm512_loadu_ps(x + i), one, ns));
    if (i < len) { /* masked-off lanes stay 0: maskz_sub zeroes them after the shift */
        __mmask16 m = tail_mask(len - i);
        a = _mm512_add_ps(a, _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), _mm512_set1_ps(s)));
    }
    return _mm512_reduce_add_pd(fold(acc, a));
}

/* sum over len floats of (x - mu)^2 */
static inline double sum_sq(ptrdiff_t len, const float *x, float mu) {
    const __m512 vm = _mm512_set1_ps(mu);
    __m512d acc = _mm512_setzero_pd();
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 256 ? len : i + 256;
        __m512 q0 = _mm512_setzero_ps(), q1 = q0, q2 = q0, q3 = q0;
        for (; i + 64 <= end; i += 64) {
            __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
            __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 16), vm);
            __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), vm);
            __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 48), vm);
            q0 = _mm512_fmadd_ps(d0, d0, q0);
            q1 = _mm512_fmadd_ps(d1, d1, q1);
            q2 = _mm512_fmadd_ps(d2, d2, q2);
            q3 = _mm512_fmadd_ps(d3, d3, q3);
        }
        acc = fold(acc, _mm512_add_ps(_mm512_add_ps(q0, q1), _mm512_add_ps(q2, q3)));
    }
    __m512 q = _mm512_setzero_ps();
    for (; i + 16 <= len; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vm);
        q = _mm512_fmadd_ps(d, d, q);
    }
    if (i < len) {
        __mmask16 m = tail_mask(len - i);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), vm);
        q = _mm512_fmadd_ps(d, d, q);
    }
    return _mm512_reduce_add_pd(fold(acc, q));
}

static inline void normalize(ptrdiff_t n, const float *x, const float *g, const float *b, float mu,
                      float r, float *y, int stream) {
    const __m512 vm = _mm512_set1_ps(mu), vr = _mm512_set1_ps(r);
    ptrdiff_t i = 0;
    if (stream && x != y && ((uintptr_t)y & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)(((64 - ((uintptr_t)y & 63)) & 63) / sizeof(float));
        if (head > n) head = n;
        if (head > 0) {
            __mmask16 m = tail_mask(head);
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x), vm), vr);
            _mm512_mask_storeu_ps(y, m, _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, g), _mm512_maskz_loadu_ps(m, b)));
            i = head;
        }
        for (; i + 16 <= n; i += 16) {
            __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), vr);
            _mm512_stream_ps(y + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(g + i), _mm512_loadu_ps(b + i)));
        }
    } /* the caller issues _mm_sfence() once after its last streamed row */
    for (; i + 16 <= n; i += 16) {
        __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm), vr);
        _mm512_storeu_ps(y + i, _mm512_fmadd_ps(t, _mm512_loadu_ps(g + i), _mm512_loadu_ps(b + i)));
    }
    if (i < n) {
        __mmask16 m = tail_mask(n - i);
        __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), vm), vr);
        _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(t, _mm512_maskz_loadu_ps(m, g + i), _mm512_maskz_loadu_ps(m, b + i)));
    }
}

kl_status kl_ln_row_avx512(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                           float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream) {
    /* BEGIN SOLUTION */
    kl_ln_acc acc = {0.0, 0.0, 0.0};
    for (ptrdiff_t c0 = 0; c0 < cols; c0 += chunk) {
        ptrdiff_t len = cols - c0 < chunk ? cols - c0 : chunk;
        const float *xc = x + c0;
        double mc = xc[0] + sum_shifted(len, xc, xc[0]) / (double)len;
        float mf = (float)mc;
        /* sum (x - mf)^2 = M2 + len (mc - mf)^2: mc is accurate in double, mf is rounded */
        double m2 = sum_sq(len, xc, mf) - (double)len * (mc - mf) * (mc - mf);
        kl_ln_merge(&acc, (double)len, mc, m2 > 0.0 ? m2 : 0.0);
    }
    float m, r;
    if (!kl_ln_finish(&acc, eps, &m, &r)) {
        kl_ln_row_exact(cols, x, g, b, eps, y, mean, rstd);
        return KL_OK;
    }
    normalize(cols, x, g, b, m, r, y, stream);
    *mean = m;
    *rstd = r;
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_layernorm_avx512(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                              const float *beta, float eps, float *y, float *mean, float *rstd) {
    ptrdiff_t chunk = kl_ln_chunk();
    int stream = x != y && rows * cols >= kl_ln_stream_min();
    for (ptrdiff_t r = 0; r < rows; r++) {
        float m, s; /* mean/rstd may be NULL: write through locals */
        kl_status st = kl_ln_row_avx512(cols, x + r * cols, gamma, beta, eps, y + r * cols, &m, &s,
                                        chunk, stream);
        if (st != KL_OK) return st;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    if (stream) _mm_sfence(); /* order the streamed stores before the caller's next access */
    return KL_OK;
}
