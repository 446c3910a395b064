/* Rung 4b: AVX-512 row kernel, 16 floats per instruction; avx2.c's structure line for line
 * (read that file's comment for the passes and the cancellation argument), with tails done
 * by __mmask16 masked loads/stores. It is only called when kl_cpu_isa() reports avx512, and the
 * tests sweep it wherever the CPU has AVX-512. */
#include "ln_row.h"

#include <immintrin.h>
#include <stdint.h>

static inline __mmask16 tail_mask(ptrdiff_t rem) {
    /* BEGIN SOLUTION */
    return (__mmask16)((1u << rem) - 1u);
    /* END SOLUTION */
}

/* 16 float lanes -> added into 8 double lanes */
static inline __m512d fold(__m512d acc, __m512 v) {
    /* BEGIN SOLUTION */
    acc = _mm512_add_pd(acc, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    return _mm512_add_pd(acc, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
    /* END SOLUTION */
}

/* The shift of a row: the mean of its first 8 floats (x[0] if shorter). */
static inline float first_shift(ptrdiff_t len, const float *x) {
    /* BEGIN SOLUTION */
    if (len < 8) return len > 0 ? x[0] : 0.0f;
    __m256 v = _mm256_loadu_ps(x);
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h) * 0.125f;
    /* END SOLUTION */
}

/* Sums over len floats of d = x - s (*S1) and d*d (*S2), as in avx2.c; folded into double
 * every 512 floats (8 terms per lane). Masked-off tail lanes stay 0 (maskz_sub). */
static inline void sum_d_dd(ptrdiff_t len, const float *x, float s, double *S1, double *S2) {
    /* BEGIN SOLUTION */
    const __m512 vs = _mm512_set1_ps(s), ns = _mm512_set1_ps(-s), one = _mm512_set1_ps(1.0f);
    __m512d a1 = _mm512_setzero_pd(), a2 = a1;
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 512 ? len : i + 512;
        __m512 p0 = _mm512_setzero_ps(), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
        for (; i + 64 <= end; i += 64) {
            __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), vs);
            __m512 d1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 16), one, ns);
            __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(x + i + 32), vs);
            __m512 d3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i + 48), one, ns);
            p0 = _mm512_add_ps(p0, d0), q0 = _mm512_fmadd_ps(d0, d0, q0);
            p1 = _mm512_add_ps(p1, d1), q1 = _mm512_fmadd_ps(d1, d1, q1);
            p2 = _mm512_add_ps(p2, d2), q2 = _mm512_fmadd_ps(d2, d2, q2);
            p3 = _mm512_add_ps(p3, d3), q3 = _mm512_fmadd_ps(d3, d3, q3);
        }
        a1 = fold(a1, _mm512_add_ps(_mm512_add_ps(p0, p1), _mm512_add_ps(p2, p3)));
        a2 = fold(a2, _mm512_add_ps(_mm512_add_ps(q0, q1), _mm512_add_ps(q2, q3)));
    }
    __m512 p = _mm512_setzero_ps(), q = p;
    for (; i + 16 <= len; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_loadu_ps(x + i), vs);
        p = _mm512_add_ps(p, d), q = _mm512_fmadd_ps(d, d, q);
    }
    if (i < len) {
        __mmask16 m = tail_mask(len - i);
        __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, x + i), vs);
        p = _mm512_add_ps(p, d), q = _mm512_fmadd_ps(d, d, q);
    }
    *S1 = _mm512_reduce_add_pd(fold(a1, p));
    *S2 = _mm512_reduce_add_pd(fold(a2, q));
    /* END SOLUTION */
}

/* pass b (rare): sum over len floats of (x - mu)^2 */
static inline double sum_sq(ptrdiff_t len, const float *x, float mu) {
    /* BEGIN SOLUTION */
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
    /* END SOLUTION */
}

/* mean and rstd from one row's sums (avx2.c's finish_row: pass b when the shift is more
 * than one std from the mean); 0 when the row must take kl_ln_row_exact. inv = 1.0 / n. */
static inline int finish_row(ptrdiff_t n, double inv, const float *x, float s, double s1,
                             double s2, float eps, float *m, float *r) {
    /* BEGIN SOLUTION */
    double md = s1 * inv, mean = s + md, m2 = s2 - s1 * md;
    if (!((double)n * md * md <= m2)) { /* |mean - s| > std (or NaN): pass b, centred */
        float mf = (float)mean;
        m2 = sum_sq(n, x, mf) - (double)n * (mean - mf) * (mean - mf);
    }
    kl_ln_acc acc = {(double)n, mean, m2 > 0.0 ? m2 : 0.0};
    return kl_ln_finish(&acc, eps, m, r);
    /* END SOLUTION */
}

/* A row's mean and rstd: pass a, then (rarely) pass b. */
static inline int row_stats(ptrdiff_t cols, double inv, const float *x, float eps, float *m, float *r) {
    /* BEGIN SOLUTION */
    float s = first_shift(cols, x);
    double s1, s2;
    sum_d_dd(cols, x, s, &s1, &s2);
    return finish_row(cols, inv, x, s, s1, s2, eps, m, r);
    /* END SOLUTION */
}

static inline void normalize(ptrdiff_t n, const float *x, const float *g, const float *b, float mu,
                      float r, float *y, int stream) {
    /* BEGIN SOLUTION */
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
        uintptr_t next = (uintptr_t)(x + n); /* the next row (or chunk), as avx2.c */
        for (; i + 16 <= n; i += 16) {
            _mm_prefetch((const char *)(next + sizeof(float) * (uintptr_t)i), _MM_HINT_T0);
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
    /* END SOLUTION */
}

/* avx2.c's pair_step: pass c of the pair p while pass a of the next pair xa, xb, 16 floats
 * of each row per step, gamma/beta loaded once for both rows. */
typedef struct { const float *x[2]; float *y[2]; float m[2], r[2]; } ln_pair;

static inline void pair_step(ptrdiff_t n, const float *g, const float *b, const ln_pair *p,
                             const float *xa, const float *xb, float sa, float sb, double out[4]) {
    /* BEGIN SOLUTION */
    /* (x - m) r as one FMA, x r - (m r), as avx2.c's pair_step */
    const __m512 vr0 = _mm512_set1_ps(p->r[0]), vmr0 = _mm512_set1_ps(p->m[0] * p->r[0]);
    const __m512 vr1 = _mm512_set1_ps(p->r[1]), vmr1 = _mm512_set1_ps(p->m[1] * p->r[1]);
    const __m512 vsa = _mm512_set1_ps(sa), vsb = _mm512_set1_ps(sb);
    const float *x0 = p->x[0], *x1 = p->x[1];
    float *y0 = p->y[0], *y1 = p->y[1];
    __m512d A1 = _mm512_setzero_pd(), A2 = A1, B1 = A1, B2 = A1;
    ptrdiff_t i = 0;
    if (!xa) xa = x0, xb = x1; /* no next pair: sum rows in L1 anyway, out is ignored */
    while (i < n) {
        ptrdiff_t end = n - i < 256 ? n : i + 256; /* fold into double every 256 floats */
        __m512 pa = _mm512_setzero_ps(), qa = pa, pb = pa, qb = pa;
        for (; i + 16 <= end; i += 16) {
            __m512 da = _mm512_sub_ps(_mm512_loadu_ps(xa + i), vsa);
            __m512 db = _mm512_sub_ps(_mm512_loadu_ps(xb + i), vsb);
            pa = _mm512_add_ps(pa, da), qa = _mm512_fmadd_ps(da, da, qa);
            pb = _mm512_add_ps(pb, db), qb = _mm512_fmadd_ps(db, db, qb);
            __m512 vg = _mm512_loadu_ps(g + i), vb = _mm512_loadu_ps(b + i);
            __m512 t0 = _mm512_fmsub_ps(_mm512_loadu_ps(x0 + i), vr0, vmr0);
            __m512 t1 = _mm512_fmsub_ps(_mm512_loadu_ps(x1 + i), vr1, vmr1);
            _mm512_storeu_ps(y0 + i, _mm512_fmadd_ps(t0, vg, vb));
            _mm512_storeu_ps(y1 + i, _mm512_fmadd_ps(t1, vg, vb));
        }
        if (i < end) { /* the last 1..15 floats of the row: masked lanes stay 0 */
            __mmask16 k = tail_mask(end - i);
            __m512 da = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, xa + i), vsa);
            __m512 db = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, xb + i), vsb);
            pa = _mm512_add_ps(pa, da), qa = _mm512_fmadd_ps(da, da, qa);
            pb = _mm512_add_ps(pb, db), qb = _mm512_fmadd_ps(db, db, qb);
            __m512 vg = _mm512_maskz_loadu_ps(k, g + i), vb = _mm512_maskz_loadu_ps(k, b + i);
            __m512 t0 = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, x0 + i), vr0, vmr0);
            __m512 t1 = _mm512_fmsub_ps(_mm512_maskz_loadu_ps(k, x1 + i), vr1, vmr1);
            _mm512_mask_storeu_ps(y0 + i, k, _mm512_fmadd_ps(t0, vg, vb));
            _mm512_mask_storeu_ps(y1 + i, k, _mm512_fmadd_ps(t1, vg, vb));
            i = end;
        }
        A1 = fold(A1, pa), A2 = fold(A2, qa), B1 = fold(B1, pb), B2 = fold(B2, qb);
    }
    out[0] = _mm512_reduce_add_pd(A1), out[1] = _mm512_reduce_add_pd(A2);
    out[2] = _mm512_reduce_add_pd(B1), out[3] = _mm512_reduce_add_pd(B2);
    /* END SOLUTION */
}

kl_status kl_ln_row_avx512(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                           float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream) {
    /* BEGIN SOLUTION */
    (void)chunk; /* one statistics pass over the whole row, as avx2.c */
    float m, r;
    if (!row_stats(cols, 1.0 / (double)cols, x, eps, &m, &r)) {
        kl_ln_row_exact(cols, x, g, b, eps, y, mean, rstd);
        return KL_OK;
    }
    normalize(cols, x, g, b, m, r, y, stream);
    *mean = m;
    *rstd = r;
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_ln_rows_avx512(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                            const float *b, float eps, float *y, float *mean, float *rstd,
                            ptrdiff_t chunk, int stream) {
    /* BEGIN SOLUTION */
    ptrdiff_t r = 0;
    /* in pairs while in L2; past it, or streamed, one at a time (below) or in blocks */
    kl_ln_path path = kl_ln_rows_path(rows, cols, x == y, stream);
    if (path == KL_LN_BLOCKS) {
        static const kl_ln_row_ops ops = {row_stats, normalize};
        return kl_ln_rows_in_blocks(&ops, rows, cols, x, g, b, eps, y, mean, rstd, stream);
    }
    if (path == KL_LN_PAIRS && rows >= 2) {
        const double inv = 1.0 / (double)cols;
        ln_pair cur = {{x, x + cols}, {y, y + cols}, {0.0f, 0.0f}, {0.0f, 0.0f}};
        int ok[2];
        for (int k = 0; k < 2; k++) ok[k] = row_stats(cols, inv, cur.x[k], eps, &cur.m[k], &cur.r[k]);
        for (; r + 2 <= rows; r += 2) {
            int more = r + 4 <= rows, nok[2] = {0, 0}; /* more: a next pair exists */
            ln_pair next = {{x + (r + 2) * cols, x + (r + 3) * cols},
                            {y + (r + 2) * cols, y + (r + 3) * cols}, {0.0f, 0.0f}, {0.0f, 0.0f}};
            if (ok[0] && ok[1]) {
                float s0 = more ? first_shift(cols, next.x[0]) : 0.0f;
                float s1 = more ? first_shift(cols, next.x[1]) : 0.0f;
                double sums[4];
                pair_step(cols, g, b, &cur, more ? next.x[0] : NULL, more ? next.x[1] : NULL, s0, s1, sums);
                if (more) {
                    nok[0] = finish_row(cols, inv, next.x[0], s0, sums[0], sums[1], eps, &next.m[0], &next.r[0]);
                    nok[1] = finish_row(cols, inv, next.x[1], s1, sums[2], sums[3], eps, &next.m[1], &next.r[1]);
                }
            } else { /* a row with NaN/Inf or a tiny variance: this pair one row at a time */
                for (int k = 0; k < 2; k++) {
                    if (ok[k]) normalize(cols, cur.x[k], g, b, cur.m[k], cur.r[k], cur.y[k], 0);
                    else kl_ln_row_exact(cols, cur.x[k], g, b, eps, cur.y[k], &cur.m[k], &cur.r[k]);
                    if (more) nok[k] = row_stats(cols, inv, next.x[k], eps, &next.m[k], &next.r[k]);
                }
            }
            if (mean) mean[r] = cur.m[0], mean[r + 1] = cur.m[1];
            if (rstd) rstd[r] = cur.r[0], rstd[r + 1] = cur.r[1];
            cur = next, ok[0] = nok[0], ok[1] = nok[1];
        }
    }
    for (; r < rows; r++) {
        float m, s; /* mean/rstd may be NULL: write through locals */
        kl_status st = kl_ln_row_avx512(cols, x + r * cols, g, b, eps, y + r * cols, &m, &s, chunk, stream);
        if (st != KL_OK) return st;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_layernorm_avx512(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                              const float *beta, float eps, float *y, float *mean, float *rstd) {
    int stream = x != y && rows * cols >= kl_ln_stream_min();
    kl_status st = kl_ln_rows_avx512(rows, cols, x, gamma, beta, eps, y, mean, rstd, kl_ln_chunk(), stream);
    if (stream) _mm_sfence(); /* order the streamed stores before the caller's next access */
    return st;
}
