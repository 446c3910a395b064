/* Rung 4: AVX2 + FMA, 8 floats per instruction. Shapes: x[rows][cols] -> y, mean[rows], rstd[rows].
 * Per row:
 *   pass a: ONE pass for both sums, of d = x - s and of d*d, with s a float near the row's
 *     mean (the mean of its first 8 floats). Then, in double, mean = s + sum d / n and
 *     M2 = sum d^2 - (sum d)^2 / n.
 *   pass b (rare): that formula loses (mean - s)^2 / var of M2's relative precision to
 *     cancellation. When the shift is more than one std from the mean (a row that starts
 *     with outliers, sorted data) the row is read again for sum (x - m)^2 around its float
 *     mean m, corrected for the rounding of m (a centred two-pass). So M2 never loses more
 *     than a factor 2 (one bit); with unit noise, 8 samples put s ~0.35 std from the mean
 *     and pass b runs for well under 1% of rows.
 *   pass c: y = (x - mean) * rstd * gamma + beta (sub, mul, FMA; two FMAs in pair_step),
 *     streamed when asked.
 * Why SHIFT: rows of 1e4 + unit noise hold 1e4-sized numbers, whose float sums keep only
 * ~1e-3 absolute precision. x - s is unit-sized, so float lanes lose nothing that matters;
 * the means themselves are kept in double. This is cheaper than converting every element to
 * double lanes (two conversions and twice the adds per 8 floats) and as accurate for this op.
 * Float lane sums are folded into double every 256-512 floats, then reduced in double.
 * Why one statistics pass (the blocked rung reads each L1 chunk twice): at rows that sit in
 * L2 the kernel is bound by instructions, not bytes; a pass costs a load and 2-3 vector
 * operations per 8 floats, and memcpy does 1 load and 1 store.
 * Why rows in pairs (kl_ln_rows_avx2): pass c of rows r, r+1 runs in the SAME loop as pass a
 * of rows r+2, r+3 (pair_step), so the next rows' loads overlap this pair's arithmetic and
 * stores, each gamma/beta vector serves two rows, and a row's sqrt/divide latency hides
 * behind the other pair's work. That pays while the rows sit in L2; past it, rows go one at
 * a time, or in blocks (kl_ln_rows_in_blocks) when a row with gamma and beta is too wide for
 * half of L1 (kl_ln_rows_path, common.c).
 * Tails (< 8 floats) use _mm256_maskload_ps (masked lanes read as 0 and are masked out of
 * the sums again after the shift) and _mm256_maskstore_ps. y may be x. */
#include "ln_row.h"

#include <immintrin.h>
#include <stdint.h>

static inline __m256i tail_mask(ptrdiff_t rem) { /* lanes [0, rem) on, 0 <= rem < 8 */
    /* BEGIN SOLUTION */
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    /* END SOLUTION */
}

/* 8 float lanes -> added into 4 double lanes */
static inline __m256d fold(__m256d acc, __m256 v) {
    /* BEGIN SOLUTION */
    acc = _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    return _mm256_add_pd(acc, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    /* END SOLUTION */
}

static inline double hsum_pd(__m256d v) {
    /* BEGIN SOLUTION */
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
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

/* Sums over len floats of d = x - s (*S1) and d*d (*S2). Per 8 floats: a sub, an add and an
 * FMA. Half the subs run on the FMA pipes (x * 1 - s, rounded once: the same value) so the
 * two FADD and the two FMA pipes get 3 operations each per 16 floats; 4 + 4 accumulators
 * cover the add and FMA latencies. */
static inline void sum_d_dd(ptrdiff_t len, const float *x, float s, double *S1, double *S2) {
    /* BEGIN SOLUTION */
    const __m256 vs = _mm256_set1_ps(s), ns = _mm256_set1_ps(-s), one = _mm256_set1_ps(1.0f);
    __m256d a1 = _mm256_setzero_pd(), a2 = a1;
    ptrdiff_t i = 0;
    while (len - i >= 32) {
        ptrdiff_t end = len - i < 512 ? len : i + 512;
        __m256 p0 = _mm256_setzero_ps(), p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
        for (; i + 32 <= end; i += 32) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vs);
            __m256 d1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), one, ns);
            __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), vs);
            __m256 d3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), one, ns);
            p0 = _mm256_add_ps(p0, d0), q0 = _mm256_fmadd_ps(d0, d0, q0);
            p1 = _mm256_add_ps(p1, d1), q1 = _mm256_fmadd_ps(d1, d1, q1);
            p2 = _mm256_add_ps(p2, d2), q2 = _mm256_fmadd_ps(d2, d2, q2);
            p3 = _mm256_add_ps(p3, d3), q3 = _mm256_fmadd_ps(d3, d3, q3);
        }
        a1 = fold(a1, _mm256_add_ps(_mm256_add_ps(p0, p1), _mm256_add_ps(p2, p3)));
        a2 = fold(a2, _mm256_add_ps(_mm256_add_ps(q0, q1), _mm256_add_ps(q2, q3)));
    }
    __m256 p = _mm256_setzero_ps(), q = p;
    for (; i + 8 <= len; i += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + i), vs);
        p = _mm256_add_ps(p, d), q = _mm256_fmadd_ps(d, d, q);
    }
    if (i < len) {
        __m256i m = tail_mask(len - i);
        __m256 d = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), vs), _mm256_castsi256_ps(m));
        p = _mm256_add_ps(p, d), q = _mm256_fmadd_ps(d, d, q);
    }
    *S1 = hsum_pd(fold(a1, p));
    *S2 = hsum_pd(fold(a2, q));
    /* END SOLUTION */
}

/* pass b: sum over len floats of (x - mu)^2: one sub (FADD pipe) and one FMA per vector,
 * 8 accumulators to cover the FMA latency. */
static inline double sum_sq(ptrdiff_t len, const float *x, float mu) {
    /* BEGIN SOLUTION */
    const __m256 vm = _mm256_set1_ps(mu);
    __m256d acc = _mm256_setzero_pd();
    ptrdiff_t i = 0;
    while (len - i >= 64) {
        ptrdiff_t end = len - i < 256 ? len : i + 256;
        __m256 q0 = _mm256_setzero_ps(), q1 = q0, q2 = q0, q3 = q0, q4 = q0, q5 = q0, q6 = q0, q7 = q0;
        for (; i + 64 <= end; i += 64) {
            __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), vm);
            __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vm);
            __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 16), vm);
            __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 24), vm);
            __m256 d4 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 32), vm);
            __m256 d5 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 40), vm);
            __m256 d6 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 48), vm);
            __m256 d7 = _mm256_sub_ps(_mm256_loadu_ps(x + i + 56), vm);
            q0 = _mm256_fmadd_ps(d0, d0, q0), q1 = _mm256_fmadd_ps(d1, d1, q1);
            q2 = _mm256_fmadd_ps(d2, d2, q2), q3 = _mm256_fmadd_ps(d3, d3, q3);
            q4 = _mm256_fmadd_ps(d4, d4, q4), q5 = _mm256_fmadd_ps(d5, d5, q5);
            q6 = _mm256_fmadd_ps(d6, d6, q6), q7 = _mm256_fmadd_ps(d7, d7, q7);
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
    /* END SOLUTION */
}

/* mean and rstd from one row's sums of d = x - s (s1) and d*d (s2) over n floats; 0 when
 * the row must take kl_ln_row_exact (see kl_ln_finish). inv = 1.0 / n. */
static inline int finish_row(ptrdiff_t n, double inv, const float *x, float s, double s1,
                             double s2, float eps, float *m, float *r) {
    /* BEGIN SOLUTION */
    double md = s1 * inv, mean = s + md, m2 = s2 - s1 * md;
    if (!((double)n * md * md <= m2)) { /* |mean - s| > std (or NaN): pass b, centred */
        float mf = (float)mean;
        /* sum (x - mf)^2 = M2 + n (mean - mf)^2: mean is accurate in double, mf is rounded */
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
    const __m256 vm = _mm256_set1_ps(mu), vr = _mm256_set1_ps(r);
    ptrdiff_t i = 0;
    if (stream && x != y && ((uintptr_t)y & 3) == 0) {
        ptrdiff_t head = (ptrdiff_t)(((32 - ((uintptr_t)y & 31)) & 31) / sizeof(float));
        for (; i < head && i < n; i++) y[i] = (x[i] - mu) * r * g[i] + b[i];
        /* the next row in memory, one line per 16 floats, so its pass a finds it in L1. On a
         * block's column chunk (kl_ln_rows_in_blocks) x + n is the row's next chunk instead:
         * prefetching that, the next row's chunk or nothing timed the same on Zen 4. */
        uintptr_t next = (uintptr_t)(x + n);
        for (; i + 16 <= n; i += 16) {
            _mm_prefetch((const char *)(next + sizeof(float) * (uintptr_t)i), _MM_HINT_T0);
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
    /* END SOLUTION */
}

/* One pair of rows in flight: p->x[0..1] -> p->y[0..1] (pass c with p->m, p->r) while the
 * NEXT pair xa, xb gets its pass a (shifts sa, sb; out = {sum d, sum d^2} of xa, then of xb).
 * Per step of 8 floats of each of the four rows: 6 loads, 2 stores, 10 vector operations.
 * Pass c computes (x - m) r as fmsub(x, r, m r): one FMA instead of a sub and a mul. The
 * rounding of m r adds an error of about |m| r u, the size of the error m's own rounding to
 * float already puts in x - m, so it stays within the oracle's |mean| rstd term.
 * One accumulator per sum is enough: a step takes about as long as the FMA latency (4
 * cycles), and fewer accumulators keep all 14 live vectors in the 16 ymm registers (a
 * version with 2 per sum spilled and was slower). The last pair takes pair_out instead.
 * y may be x: each vector of x is read before the same vector of y is written. */
typedef struct { const float *x[2]; float *y[2]; float m[2], r[2]; } ln_pair;

static inline void pair_step(ptrdiff_t n, const float *g, const float *b, const ln_pair *p,
                             const float *xa, const float *xb, float sa, float sb, double out[4]) {
    /* BEGIN SOLUTION */
    /* (x - m) r as ONE FMA, x r - (m r): 10 vector operations per step instead of 12 (see
     * the comment above; the lesson's README has the measurement) */
    const __m256 vr0 = _mm256_set1_ps(p->r[0]), vmr0 = _mm256_set1_ps(p->m[0] * p->r[0]);
    const __m256 vr1 = _mm256_set1_ps(p->r[1]), vmr1 = _mm256_set1_ps(p->m[1] * p->r[1]);
    const __m256 vsa = _mm256_set1_ps(sa), vsb = _mm256_set1_ps(sb);
    const float *x0 = p->x[0], *x1 = p->x[1];
    float *y0 = p->y[0], *y1 = p->y[1];
    __m256d A1 = _mm256_setzero_pd(), A2 = A1, B1 = A1, B2 = A1;
    ptrdiff_t i = 0;
    while (i < n) {
        ptrdiff_t end = n - i < 256 ? n : i + 256; /* fold into double every 256 floats */
        __m256 pa = _mm256_setzero_ps(), qa = pa, pb = pa, qb = pa;
        for (; i + 8 <= end; i += 8) {
            __m256 da = _mm256_sub_ps(_mm256_loadu_ps(xa + i), vsa);
            __m256 db = _mm256_sub_ps(_mm256_loadu_ps(xb + i), vsb);
            pa = _mm256_add_ps(pa, da), qa = _mm256_fmadd_ps(da, da, qa);
            pb = _mm256_add_ps(pb, db), qb = _mm256_fmadd_ps(db, db, qb);
            __m256 vg = _mm256_loadu_ps(g + i), vb = _mm256_loadu_ps(b + i);
            __m256 t0 = _mm256_fmsub_ps(_mm256_loadu_ps(x0 + i), vr0, vmr0);
            __m256 t1 = _mm256_fmsub_ps(_mm256_loadu_ps(x1 + i), vr1, vmr1);
            _mm256_storeu_ps(y0 + i, _mm256_fmadd_ps(t0, vg, vb));
            _mm256_storeu_ps(y1 + i, _mm256_fmadd_ps(t1, vg, vb));
        }
        if (i < end) { /* the last 1..7 floats of the row */
            __m256i k = tail_mask(end - i);
            __m256 mk = _mm256_castsi256_ps(k);
            __m256 da = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xa + i, k), vsa), mk);
            __m256 db = _mm256_and_ps(_mm256_sub_ps(_mm256_maskload_ps(xb + i, k), vsb), mk);
            pa = _mm256_add_ps(pa, da), qa = _mm256_fmadd_ps(da, da, qa);
            pb = _mm256_add_ps(pb, db), qb = _mm256_fmadd_ps(db, db, qb);
            __m256 vg = _mm256_maskload_ps(g + i, k), vb = _mm256_maskload_ps(b + i, k);
            __m256 t0 = _mm256_fmsub_ps(_mm256_maskload_ps(x0 + i, k), vr0, vmr0);
            __m256 t1 = _mm256_fmsub_ps(_mm256_maskload_ps(x1 + i, k), vr1, vmr1);
            _mm256_maskstore_ps(y0 + i, k, _mm256_fmadd_ps(t0, vg, vb));
            _mm256_maskstore_ps(y1 + i, k, _mm256_fmadd_ps(t1, vg, vb));
            i = end;
        }
        A1 = fold(A1, pa), A2 = fold(A2, qa), B1 = fold(B1, pb), B2 = fold(B2, qb);
    }
    out[0] = hsum_pd(A1), out[1] = hsum_pd(A2), out[2] = hsum_pd(B1), out[3] = hsum_pd(B2);
    /* END SOLUTION */
}

/* The last pair of a block (no next pair to sum): pass c alone, 4 loads, 2 stores and 4 FMAs
 * per step, instead of a pair_step summing rows no one needs (modules/03_layernorm/README.md
 * measures the difference). */
static inline void pair_out(ptrdiff_t n, const float *g, const float *b, const ln_pair *p) {
    /* BEGIN SOLUTION */
    const __m256 vr0 = _mm256_set1_ps(p->r[0]), vmr0 = _mm256_set1_ps(p->m[0] * p->r[0]);
    const __m256 vr1 = _mm256_set1_ps(p->r[1]), vmr1 = _mm256_set1_ps(p->m[1] * p->r[1]);
    const float *x0 = p->x[0], *x1 = p->x[1];
    float *y0 = p->y[0], *y1 = p->y[1];
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 vg = _mm256_loadu_ps(g + i), vb = _mm256_loadu_ps(b + i);
        __m256 t0 = _mm256_fmsub_ps(_mm256_loadu_ps(x0 + i), vr0, vmr0);
        __m256 t1 = _mm256_fmsub_ps(_mm256_loadu_ps(x1 + i), vr1, vmr1);
        _mm256_storeu_ps(y0 + i, _mm256_fmadd_ps(t0, vg, vb));
        _mm256_storeu_ps(y1 + i, _mm256_fmadd_ps(t1, vg, vb));
    }
    if (i < n) {
        __m256i k = tail_mask(n - i);
        __m256 vg = _mm256_maskload_ps(g + i, k), vb = _mm256_maskload_ps(b + i, k);
        __m256 t0 = _mm256_fmsub_ps(_mm256_maskload_ps(x0 + i, k), vr0, vmr0);
        __m256 t1 = _mm256_fmsub_ps(_mm256_maskload_ps(x1 + i, k), vr1, vmr1);
        _mm256_maskstore_ps(y0 + i, k, _mm256_fmadd_ps(t0, vg, vb));
        _mm256_maskstore_ps(y1 + i, k, _mm256_fmadd_ps(t1, vg, vb));
    }
    /* END SOLUTION */
}

kl_status kl_ln_row_avx2(ptrdiff_t cols, const float *x, const float *g, const float *b, float eps,
                         float *y, float *mean, float *rstd, ptrdiff_t chunk, int stream) {
    /* BEGIN SOLUTION */
    (void)chunk; /* one statistics pass over the whole row: see the top of this file */
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

kl_status kl_ln_rows_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
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
                if (more) {
                    float s0 = first_shift(cols, next.x[0]), s1 = first_shift(cols, next.x[1]);
                    double sums[4];
                    pair_step(cols, g, b, &cur, next.x[0], next.x[1], s0, s1, sums);
                    nok[0] = finish_row(cols, inv, next.x[0], s0, sums[0], sums[1], eps, &next.m[0], &next.r[0]);
                    nok[1] = finish_row(cols, inv, next.x[1], s1, sums[2], sums[3], eps, &next.m[1], &next.r[1]);
                } else {
                    pair_out(cols, g, b, &cur);
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
        kl_status st = kl_ln_row_avx2(cols, x + r * cols, g, b, eps, y + r * cols, &m, &s, chunk, stream);
        if (st != KL_OK) return st;
        if (mean) mean[r] = m;
        if (rstd) rstd[r] = s;
    }
    return KL_OK;
    /* END SOLUTION */
}

kl_status kl_layernorm_avx2(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                            const float *beta, float eps, float *y, float *mean, float *rstd) {
    int stream = x != y && rows * cols >= kl_ln_stream_min();
    kl_status st = kl_ln_rows_avx2(rows, cols, x, gamma, beta, eps, y, mean, rstd, kl_ln_chunk(), stream);
    if (stream) _mm_sfence(); /* order the streamed stores before the caller's next access */
    return st;
}
