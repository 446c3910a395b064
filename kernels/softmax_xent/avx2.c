/* Rung 2: AVX2 with a vector exp. Per row: the max (lanes, then across), the sum of
 * exp(z - max) (8 at a time), then the gradient. exp is evaluated as 2^n e^r, n = round(x
 * log2 e), r = x - n ln 2 (ln 2 split in two parts so r is exact), e^r by a degree-6
 * polynomial on |r| <= ln2/2: within 2 ulp of expf over the range softmax uses (x <= 0).
 * The clamp keeps 2^n a normal float; max(lo, x) puts x second so a NaN passes through
 * (vmaxps returns its second operand when either is NaN). Tail (< 8): masked loads; the
 * masked-off lanes are -Inf for the max and zeroed before the sum (the clamp would make their
 * exp tiny, not 0). */
#include "softmax_xent.h"

#include <immintrin.h>
#include <math.h>

static inline __m256i tail_mask(ptrdiff_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

static inline __m256 exp256(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-87.3f), x);
    x = _mm256_min_ps(_mm256_set1_ps(88.3f), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline float hmax(__m256 v) { /* a NaN lane may or may not win: the row is NaN anyway */
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(s, _mm_shuffle_ps(s, s, 1)));
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_shuffle_ps(s, s, 1)));
}

float kl_softmax_xent_row_avx2(ptrdiff_t cols, const float *z, int label, float scale, float *d) {
    /* BEGIN SOLUTION */
    const ptrdiff_t full = cols / 8 * 8;
    const __m256i tm = tail_mask(cols - full);
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    __m256 mv = ninf;
    for (ptrdiff_t c = 0; c < full; c += 8) mv = _mm256_max_ps(mv, _mm256_loadu_ps(z + c));
    if (full < cols) mv = _mm256_max_ps(mv, _mm256_blendv_ps(ninf, _mm256_maskload_ps(z + full, tm), _mm256_castsi256_ps(tm)));
    float mx = hmax(mv);
    const __m256 m8 = _mm256_set1_ps(mx);
    __m256 sv = _mm256_setzero_ps();
    for (ptrdiff_t c = 0; c < full; c += 8) sv = _mm256_add_ps(sv, exp256(_mm256_sub_ps(_mm256_loadu_ps(z + c), m8)));
    if (full < cols)
        sv = _mm256_add_ps(sv, _mm256_and_ps(_mm256_castsi256_ps(tm),
                                             exp256(_mm256_sub_ps(_mm256_maskload_ps(z + full, tm), m8))));
    float sum = hsum(sv);
    if (d) {
        const __m256 inv = _mm256_set1_ps(scale / sum);
        for (ptrdiff_t c = 0; c < full; c += 8)
            _mm256_storeu_ps(d + c, _mm256_mul_ps(exp256(_mm256_sub_ps(_mm256_loadu_ps(z + c), m8)), inv));
        if (full < cols)
            _mm256_maskstore_ps(d + full, tm, _mm256_mul_ps(exp256(_mm256_sub_ps(_mm256_maskload_ps(z + full, tm), m8)), inv));
        d[label] -= scale;
    }
    return mx + logf(sum) - z[label];
    /* END SOLUTION */
}

kl_status kl_softmax_xent_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *logits,
                               const int *labels, float *loss, float *dlogits) {
    double total = 0.0;
    float scale = 1.0f / (float)rows;
    for (ptrdiff_t r = 0; r < rows; r++)
        total += kl_softmax_xent_row_avx2(cols, logits + r * cols, labels[r], scale,
                                          dlogits ? dlogits + r * cols : NULL);
    *loss = (float)(total / (double)rows);
    return KL_OK;
}
