/* Rung 2: AVX2. Each row takes two passes over cols, 8 floats per instruction: the two sums
 * (g and g xhat, in vector lanes, added across lanes at the end), then dx and the running
 * dgamma/dbeta columns, which stay in L1 across rows for any cols up to a few thousand.
 * Tail (< 8 columns): masked loads and stores, masked-off lanes load 0 and add nothing. */
#include "layernorm_backward.h"

#include <immintrin.h>
#include <string.h>

static inline __m256i tail_mask(ptrdiff_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

/* Rows [r0, r1); dgamma, dbeta (each may be NULL) are ADDED to, not overwritten. */
void kl_layernorm_backward_rows_avx2(ptrdiff_t r0, ptrdiff_t r1, ptrdiff_t cols, const float *x,
                                     const float *gamma, const float *mean, const float *rstd,
                                     const float *dy, float *dx, float *dgamma, float *dbeta) {
    /* BEGIN SOLUTION */
    const ptrdiff_t full = cols / 8 * 8;
    const __m256i tm = tail_mask(cols - full);
    for (ptrdiff_t r = r0; r < r1; r++) {
        const float *xr = x + r * cols, *dyr = dy + r * cols;
        float *dxr = dx + r * cols;
        const __m256 mu = _mm256_set1_ps(mean[r]), s = _mm256_set1_ps(rstd[r]);
        __m256 sg = _mm256_setzero_ps(), sgx = _mm256_setzero_ps();
        for (ptrdiff_t c = 0; c < cols; c += 8) {
            int tail = c == full;
            __m256 xv = tail ? _mm256_maskload_ps(xr + c, tm) : _mm256_loadu_ps(xr + c);
            __m256 dv = tail ? _mm256_maskload_ps(dyr + c, tm) : _mm256_loadu_ps(dyr + c);
            __m256 gm = tail ? _mm256_maskload_ps(gamma + c, tm) : _mm256_loadu_ps(gamma + c);
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(xv, mu), s), g = _mm256_mul_ps(gm, dv);
            sg = _mm256_add_ps(sg, g);
            sgx = _mm256_fmadd_ps(g, xh, sgx);
        }
        const __m256 mean_g = _mm256_set1_ps(hsum(sg) / (float)cols);
        const __m256 mean_gx = _mm256_set1_ps(hsum(sgx) / (float)cols);
        for (ptrdiff_t c = 0; c < cols; c += 8) {
            int tail = c == full;
            __m256 xv = tail ? _mm256_maskload_ps(xr + c, tm) : _mm256_loadu_ps(xr + c);
            __m256 dv = tail ? _mm256_maskload_ps(dyr + c, tm) : _mm256_loadu_ps(dyr + c);
            __m256 gm = tail ? _mm256_maskload_ps(gamma + c, tm) : _mm256_loadu_ps(gamma + c);
            __m256 xh = _mm256_mul_ps(_mm256_sub_ps(xv, mu), s);
            /* s (g - mean_g - xh mean_gx) */
            __m256 t = _mm256_fnmadd_ps(xh, mean_gx, _mm256_sub_ps(_mm256_mul_ps(gm, dv), mean_g));
            __m256 out = _mm256_mul_ps(s, t);
            if (tail) {
                if (dgamma) _mm256_maskstore_ps(dgamma + c, tm, _mm256_fmadd_ps(dv, xh, _mm256_maskload_ps(dgamma + c, tm)));
                if (dbeta) _mm256_maskstore_ps(dbeta + c, tm, _mm256_add_ps(dv, _mm256_maskload_ps(dbeta + c, tm)));
                _mm256_maskstore_ps(dxr + c, tm, out);
            } else {
                if (dgamma) _mm256_storeu_ps(dgamma + c, _mm256_fmadd_ps(dv, xh, _mm256_loadu_ps(dgamma + c)));
                if (dbeta) _mm256_storeu_ps(dbeta + c, _mm256_add_ps(dv, _mm256_loadu_ps(dbeta + c)));
                _mm256_storeu_ps(dxr + c, out);
            }
        }
    }
    /* END SOLUTION */
}

kl_status kl_layernorm_backward_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                     const float *gamma, const float *mean, const float *rstd,
                                     const float *dy, float *dx, float *dgamma, float *dbeta) {
    if (dgamma) memset(dgamma, 0, (size_t)cols * sizeof(float));
    if (dbeta) memset(dbeta, 0, (size_t)cols * sizeof(float));
    kl_layernorm_backward_rows_avx2(0, rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
    return KL_OK;
}
