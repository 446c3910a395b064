/* Rung 4: AVX2 + FMA row kernel (the structure is blocked.c's, see ln_row.h), 8 floats per
 * instruction. Per chunk of kl_ln_chunk() floats, in L1:
 *   pass a: sum of (x - x[first]) in 8 vector accumulators (independent adds)
 *   pass b: sum of d*d, d = x - (float)chunk mean, corrected for the rounding of that mean
 * Float lanes are folded into double every 256 floats and horizontally reduced in double.
 * Cancellation: rows of 1e4 + unit noise hold 1e4-sized numbers, whose float sums keep only
 * ~1e-3 absolute precision. We SHIFT (by the chunk's first element, then by its mean) so
 * the float lanes only ever hold unit-sized deviations; the chunk means themselves are
 * combined in double. This is cheaper than converting every element to double lanes (two
 * conversions and twice the adds per 8 floats) and as accurate for this op.
 *   pass c: y = (x - mean) * rstd * gamma + beta (sub, mul, FMA), streamed when asked.
 * Tails (< 8 floats) use _mm256_maskload_ps (masked lanes read as 0 and are masked out of
 * the sums again after the shift) and _mm256_maskstore_ps. y may be x. */
#include "ln_row.h"

#include <immintrin.h>
#include <stdint.h>

static inline __m256i tail_mask(ptrdiff_t rem) { /* lanes [0, rem) on, 0 <= rem < 8 */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* 8 float lanes -> added into 4 double lanes */
static inline __m256d fold(__m256d acc, __m256 v) {
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

static inline double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

/* sum over len floats of (x - s). The shift runs on the FMA pipes (x * 1 - s, rounded once,
 * the same value as x - s) so the adds have the two FADD pipes to themselves; 8 accumulators
 * cover the add latency. Folded into double every 256 floats. */
static inline double sum_shifted(ptrdiff_t len, const float *x, float s) {
    const __m256 ns = _mm256_set1_ps(-s), one = _mm256_set1_ps(1.0f);
    __m256d acc = _mm256_setzero_pd();
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 256 ? len : i + 256;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (; i + 64 <= end; i += 64) {
#define KL_SHIFT(k) _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8 * (k)), one, ns)
            a0 = _mm256_add_ps(a0, KL_SHIFT(0)), a1 = _mm256_add_ps(a1, KL_SHIFT(1));
            a2 = _mm256_add_ps(a2, KL_SHIFT(2)), a3 = _mm256_add_ps(a3, KL_SHIFT(3));
            a4 = _mm256_add_ps(a4, KL_SHIFT(4)), a5 = _mm256_add_ps(a5, KL_SHIFT(5));
            a6 = _mm256_add_ps(a6, KL_SHIFT(6)), a7 = _mm256_add_ps(a7, KL_SHIFT(7));
#undef KL_SHIFT
        }
        __m256 t0 = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
        __m256 t1 = _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7));
        acc = fold(acc, _mm256_add_ps(t0, t1));
    }
    __m256 a = _mm256_setzero_ps();
    for (; i + 8 <= len; i += 8) a = _mm256_add_ps(a, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), one, ns));
    if (i < len) {
        __m256i m = tail_mask(len - i);
        __m256 d = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m), one, ns);
        a = _mm256_add_ps(a, _mm256_and_ps(d, _mm256_castsi256_ps(m)));
    }
    return hsum_pd(fold(acc, a));
}

/* sum over len floats of (x - mu)^2: one sub (FADD pipe) and one FMA per vector,
 * 8 accumulators to cover the FMA latency. */
static inline double sum_sq(ptrdiff_t len, const float *x, float mu) {
    const __m256 vm = _mm256_set1_ps(mu);
    __m256d acc = _mm256_setzero_pd();
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 256 ? len : i + 256;
        __m256 q0 = _mm256_setzero_ps(), q1 = q0, q2 = q0, q3 = q0, q4 = q0, q5 = q0, q6 = q0, q7 = q0;
        for (; i + 64 <= end; i += 64) {
#define KL_SQ(q, k) do { __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8 * (k)), vm); \
                         q = _mm256_fmadd_ps(d, d, q); } while (0)
            KL_SQ(q0, 0); KL_SQ(q1, 1); KL_SQ(q2, 2); KL_SQ(q3, 3);
            KL_SQ(q4, 4); KL_SQ(q5, 5); KL_SQ(q6, 6); KL_SQ(q7, 7);
#undef KL_SQ
        }
        __m256 t0 = _mm256_add_ps(_mm256_add_ps(q0, q1), _mm256_add_ps(q2, q3));
        __m256 t1 = _mm256_add_ps(_mm256_add_ps(q4, q5), _mm256_add_ps(q6, q7));
        acc = fold(acc, _mm256_add_ps(t0, t1));
    }
    __m256 q = _mm256_setzero_ps();
    for (; i + 8 <= len; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
        q = _mm256_fmadd_ps(d, d, q);
    }
    if (i < len) {
        __m256i m = tail_mask(len - i);
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm), _mm256_castsi256_ps(m));
        q = _mm256_fmadd_ps(d, d, q);
    }
    return hsum_pd(fold(acc, q));
}

static inline void normalize(ptrdiff_t n, const float *x, const float *g, const float *b, float mu,
                      float r, float *y, int stream) {
    const __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(r);
    ptrdiff_t i = 0;
    if (stream && x != y && ((uintptr_t)y & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)(((32 - ((uintptr_t)y & 31)) & 31) / sizeof(float));
        for (; i < head && i < n; i++) y[i] = (x[i] - mu) * r * g[i] + b[i];
        for (; i + 16 <= n; i += 16) {
            __m256 t0 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
            __m256 t1 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm), vr);
            _mm256_stream_ps(y + i, _mm256_fmadd_ps(t0, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
            _mm256_stream_ps(y + i + 8, _mm256_fmadd_ps(t1, _mm256_loadu_ps(g + i + 8), _mm256_loadu_ps(b + i + 8)));
        }
    } /* the caller issues _mm_sfence() once after its last streamed row */
    for (; i + 16 <= n; i += 16) {
        __m256 t0 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
        __m256 t1 = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm), vr);
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(t0, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
        _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(t1, _mm256_loadu_ps(g + i + 8), _mm256_loadu_ps(b + i + 8)));
    }
    for (; i + 8 <= n; i += 8) {
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vr);
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(t, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vm), vr);
        _mm256_maskstore_ps(y + i, m, _mm256_fmadd_ps(t, _mm256_maskload_ps(g + i, m), _mm256_maskload_ps(b + i, m)));
    }
}

kl_status kl_ln_row_avx2(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
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

kl_status kl_layernorm_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                            const float *beta, float eps, float *y, float *mean, float *rstd) {
    ptrdiff_t chunk = kl_ln_chunk();
    int stream = x != y && rows * cols >= kl_ln_stream_min();
    for (ptrdiff_t r = 0; r < rows; r++) {
        float m, s; /* mean/rstd may be NULL: write through locals */
        kl_status st = kl_ln_row_avx2(cols, x + r * cols, gamma, beta, eps, y + r * cols, &m, &s,
                                      chunk, stream);
        if (st != KL_OK) return st;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    if (stream) _mm_sfence(); /* order the streamed stores before the caller's next access */
    return KL_OK;
}
