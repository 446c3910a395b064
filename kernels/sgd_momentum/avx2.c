/* Rung 2: AVX2, 8 parameters per instruction, the update as three FMAs
 * (d = wd w + g, v = mom v + d, w = -lr v + w): one rounding each instead of two, so results
 * may differ from the naive rung in the last bit. Tail (< 8): masked loads and stores. */
#include "sgd_momentum.h"

#include <immintrin.h>

static inline __m256i tail_mask(ptrdiff_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

kl_status kl_sgd_momentum_span_avx2(ptrdiff_t n, float lr, float momentum, float weight_decay,
                                    float *w, const float *g, float *v) {
    /* BEGIN SOLUTION */
    const __m256 lr8 = _mm256_set1_ps(lr), mom = _mm256_set1_ps(momentum),
                 wd = _mm256_set1_ps(weight_decay);
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        __m256 d = _mm256_fmadd_ps(wd, wi, _mm256_loadu_ps(g + i));
        __m256 vi = _mm256_fmadd_ps(mom, _mm256_loadu_ps(v + i), d);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(w + i, _mm256_fnmadd_ps(lr8, vi, wi));
    }
    if (i < n) {
        __m256i m = tail_mask(n - i);
        __m256 wi = _mm256_maskload_ps(w + i, m);
        __m256 d = _mm256_fmadd_ps(wd, wi, _mm256_maskload_ps(g + i, m));
        __m256 vi = _mm256_fmadd_ps(mom, _mm256_maskload_ps(v + i, m), d);
        _mm256_maskstore_ps(v + i, m, vi);
        _mm256_maskstore_ps(w + i, m, _mm256_fnmadd_ps(lr8, vi, wi));
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_sgd_momentum_avx2(ptrdiff_t n, float lr, float momentum, float weight_decay,
                               float *w, const float *g, float *v) {
    return kl_sgd_momentum_span_avx2(n, lr, momentum, weight_decay, w, g, v);
}
