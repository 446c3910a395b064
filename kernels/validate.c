/* The checked entry points. Every argument rule of the kernel contract lives here, once,
 * so each raw kernel can assume: sizes >= 1, pointers valid, ld >= row, no bad alias,
 * and for matmul alpha != 0 and k >= 1 (the trivial cases are handled below). */
#include "linear_relu/linear_relu.h"
#include "matmul/matmul.h"
#include "add/add.h"

#include <math.h>
#include <stdint.h>

/* Bytes spanned by a rows x cols row-major matrix with leading dimension ld (0 if empty).
 * Returns 0 with *ok = 0 on a bad size or ld, or when the span overflows. */
static size_t span_bytes(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, int *ok) {
    if (rows < 0 || cols < 0 || ld < (cols > 1 ? cols : 1)) { *ok = 0; return 0; }
    if (rows == 0 || cols == 0) return 0;
    ptrdiff_t last, elems, bytes;
    if (__builtin_mul_overflow(rows - 1, ld, &last) || __builtin_add_overflow(last, cols, &elems) ||
        __builtin_mul_overflow(elems, (ptrdiff_t)sizeof(float), &bytes)) {
        *ok = 0;
        return 0;
    }
    return (size_t)bytes;
}

/* A contiguous vector or matrix: its leading dimension is its row length (at least 1). */
static size_t contiguous_bytes(ptrdiff_t rows, ptrdiff_t cols, int *ok) {
    return span_bytes(rows, cols, cols > 1 ? cols : 1, ok);
}

static int overlaps(const void *a, size_t abytes, const void *b, size_t bbytes) {
    if (abytes == 0 || bbytes == 0) return 0;
    uintptr_t a0 = (uintptr_t)a, b0 = (uintptr_t)b;
    return a0 < b0 + bbytes && b0 < a0 + abytes;
}

static int needs_pointer(size_t bytes, const void *p) { return bytes > 0 && p == NULL; }

/* ---- matmul ---- */

/* Sizes and leading dimensions only: what an empty call (m = 0 or n = 0) still checks. */
static int matmul_sizes_ok(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t lda, ptrdiff_t ldb,
                           ptrdiff_t ldc) {
    int ok = 1;
    span_bytes(m, k, lda, &ok), span_bytes(k, n, ldb, &ok), span_bytes(m, n, ldc, &ok);
    return ok;
}

static kl_status check_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                              const float *B, ptrdiff_t ldb, const float *C, ptrdiff_t ldc) {
    int ok = 1;
    size_t a = span_bytes(m, k, lda, &ok), b = span_bytes(k, n, ldb, &ok),
           c = span_bytes(m, n, ldc, &ok);
    if (!ok || needs_pointer(a, A) || needs_pointer(b, B) || needs_pointer(c, C)) return KL_EINVAL;
    if (overlaps(C, c, A, a) || overlaps(C, c, B, b)) return KL_EINVAL;
    return KL_OK;
}

kl_status kl_matmul_run(const kl_variant *v, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                        const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                        float *C, ptrdiff_t ldc) {
    if (!v || v->op != KL_OP_MATMUL || !matmul_sizes_ok(m, n, k, lda, ldb, ldc)) return KL_EINVAL;
    const int empty = m == 0 || n == 0; /* a quick return: no pointer is checked or read */
    kl_status s = empty ? KL_OK : check_matmul(m, n, k, A, lda, B, ldb, C, ldc);
    if (s != KL_OK) return s;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (empty) return KL_OK;
    if (k == 0 || alpha == 0.0f) {
        kl_scale_c(m, n, beta, C, ldc);
        return KL_OK;
    }
    return v->fn.matmul(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* ---- relu ---- */

kl_status kl_relu_run(const kl_variant *v, ptrdiff_t n, const float *x, float *y) {
    if (!v || v->op != KL_OP_RELU) return KL_EINVAL;
    int ok = 1;
    size_t bytes = contiguous_bytes(1, n, &ok); /* 0 when n == 0: no pointer is checked */
    if (!ok || needs_pointer(bytes, x) || needs_pointer(bytes, y)) return KL_EINVAL;
    if (x != y && overlaps(x, bytes, y, bytes)) return KL_EINVAL; /* only exact in-place */
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (n == 0) return KL_OK;
    return v->fn.relu(n, x, y);
}

/* ---- add ---- */

kl_status kl_add_run(const kl_variant *v, ptrdiff_t n, const float *x, const float *y, float *z) {
    if (!v || v->op != KL_OP_ADD) return KL_EINVAL;
    int ok = 1;
    size_t bytes = contiguous_bytes(1, n, &ok); /* 0 when n == 0: no pointer is checked */
    if (!ok || needs_pointer(bytes, x) || needs_pointer(bytes, y) || needs_pointer(bytes, z))
        return KL_EINVAL;
    if ((z != x && overlaps(z, bytes, x, bytes)) || (z != y && overlaps(z, bytes, y, bytes)))
        return KL_EINVAL; /* z may be x or y exactly */
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (n == 0) return KL_OK;
    return v->fn.add(n, x, y, z);
}

kl_status kl_add_variant(const char *variant, ptrdiff_t n, const float *x, const float *y, float *z) {
    if (!variant) return KL_EINVAL;
    const kl_variant *v = kl_variant_find(KL_OP_ADD, variant);
    return v ? kl_add_run(v, n, x, y, z) : KL_ENOTFOUND;
}

kl_status kl_add(ptrdiff_t n, const float *x, const float *y, float *z) {
    return kl_add_run(kl_best_variant(KL_OP_ADD), n, x, y, z);
}

/* ---- layernorm ---- */

kl_status kl_layernorm_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols, const float *x,
                           const float *gamma, const float *beta, float eps, float *y,
                           float *mean, float *rstd) {
    if (!v || v->op != KL_OP_LAYERNORM) return KL_EINVAL;
    /* eps > 0: with eps = 0 a constant row is 0 / 0. Also rejects NaN. */
    if (!(eps > 0.0f) || isinf(eps)) return KL_EINVAL;
    int ok = 1;
    size_t xy = contiguous_bytes(rows, cols, &ok), gb = contiguous_bytes(1, cols, &ok);
    size_t stats = contiguous_bytes(1, rows, &ok);
    if (!ok) return KL_EINVAL;
    if (xy == 0) stats = gb = 0; /* a quick return: no pointer is checked or read */
    if (needs_pointer(xy, x) || needs_pointer(xy, y) || needs_pointer(gb, gamma) ||
        needs_pointer(gb, beta))
        return KL_EINVAL;
    if (x != y && overlaps(x, xy, y, xy)) return KL_EINVAL; /* y == x is in place */
    if (overlaps(y, xy, gamma, gb) || overlaps(y, xy, beta, gb)) return KL_EINVAL;
    const void *inputs[] = {x, gamma, beta, y};
    size_t in_bytes[] = {xy, gb, gb, xy};
    float *stat[] = {mean, rstd};
    for (int s = 0; s < 2; s++) {
        if (!stat[s]) continue;
        for (int i = 0; i < 4; i++)
            if (overlaps(stat[s], stats, inputs[i], in_bytes[i])) return KL_EINVAL;
    }
    if (mean && rstd && overlaps(mean, stats, rstd, stats)) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (xy == 0) return KL_OK;
    return v->fn.layernorm(rows, cols, x, gamma, beta, eps, y, mean, rstd);
}

/* ---- linear_relu ---- */

/* The matmul spans and overlap rules, plus bias[n] (read only, may be NULL: no bias), which C
 * must not overlap either. C is output only: nothing of it is read. */
kl_status kl_linear_relu_run(const kl_variant *v, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                             const float *bias, float *C, ptrdiff_t ldc) {
    if (!v || v->op != KL_OP_LINEAR_RELU || !matmul_sizes_ok(m, n, k, lda, ldb, ldc))
        return KL_EINVAL;
    const int empty = m == 0 || n == 0; /* a quick return: no pointer is checked or read */
    kl_status s = empty ? KL_OK : check_matmul(m, n, k, A, lda, B, ldb, C, ldc);
    if (s != KL_OK) return s;
    int ok = 1;
    size_t c = span_bytes(m, n, ldc, &ok), b = bias && !empty ? contiguous_bytes(1, n, &ok) : 0;
    if (!ok || overlaps(C, c, bias, b)) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (empty) return KL_OK;
    if (k == 0) { /* no product: C = relu(bias), A and B not read */
        kl_bias_relu(m, n, bias, C, ldc);
        return KL_OK;
    }
    return v->fn.linear_relu(m, n, k, A, lda, B, ldb, bias, C, ldc);
}

/* ---- by name, and the best available ---- */

kl_status kl_matmul_variant(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                            float alpha, const float *A, ptrdiff_t lda, const float *B,
                            ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    if (!variant) return KL_EINVAL;
    const kl_variant *v = kl_variant_find(KL_OP_MATMUL, variant);
    if (!v) return KL_ENOTFOUND;
    return kl_matmul_run(v, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

kl_status kl_relu_variant(const char *variant, ptrdiff_t n, const float *x, float *y) {
    if (!variant) return KL_EINVAL;
    const kl_variant *v = kl_variant_find(KL_OP_RELU, variant);
    return v ? kl_relu_run(v, n, x, y) : KL_ENOTFOUND;
}

kl_status kl_layernorm_variant(const char *variant, ptrdiff_t rows, ptrdiff_t cols,
                               const float *x, const float *gamma, const float *beta, float eps,
                               float *y, float *mean, float *rstd) {
    if (!variant) return KL_EINVAL;
    const kl_variant *v = kl_variant_find(KL_OP_LAYERNORM, variant);
    return v ? kl_layernorm_run(v, rows, cols, x, gamma, beta, eps, y, mean, rstd) : KL_ENOTFOUND;
}

kl_status kl_linear_relu_variant(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                 const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                 const float *bias, float *C, ptrdiff_t ldc) {
    if (!variant) return KL_EINVAL;
    const kl_variant *v = kl_variant_find(KL_OP_LINEAR_RELU, variant);
    return v ? kl_linear_relu_run(v, m, n, k, A, lda, B, ldb, bias, C, ldc) : KL_ENOTFOUND;
}

kl_status kl_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                    ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                    ptrdiff_t ldc) {
    return kl_matmul_run(kl_best_variant(KL_OP_MATMUL), m, n, k, alpha, A, lda, B, ldb, beta, C,
                         ldc);
}

kl_status kl_relu(ptrdiff_t n, const float *x, float *y) {
    return kl_relu_run(kl_best_variant(KL_OP_RELU), n, x, y);
}

kl_status kl_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                       const float *beta, float eps, float *y, float *mean, float *rstd) {
    return kl_layernorm_run(kl_best_variant(KL_OP_LAYERNORM), rows, cols, x, gamma, beta, eps, y,
                            mean, rstd);
}

kl_status kl_linear_relu(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                         const float *B, ptrdiff_t ldb, const float *bias, float *C,
                         ptrdiff_t ldc) {
    return kl_linear_relu_run(kl_best_variant(KL_OP_LINEAR_RELU), m, n, k, A, lda, B, ldb, bias,
                              C, ldc);
}

/* ---- training ops ---- */

static int finite(float v) { return !isnan(v) && !isinf(v); }

kl_status kl_matmul_t_run(const kl_variant *v, int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n,
                          ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda, const float *B,
                          ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    if (!v || v->op != KL_OP_MATMUL_T) return KL_EINVAL;
    if (m < 0 || n < 0 || k < 0) return KL_EINVAL;
    int ok = 1; /* the stored shapes: A is k x m when transposed, B is n x k */
    size_t a = trans_a ? span_bytes(k, m, lda, &ok) : span_bytes(m, k, lda, &ok);
    size_t b = trans_b ? span_bytes(n, k, ldb, &ok) : span_bytes(k, n, ldb, &ok);
    size_t c = span_bytes(m, n, ldc, &ok);
    if (!ok || needs_pointer(a, A) || needs_pointer(b, B) || needs_pointer(c, C)) return KL_EINVAL;
    if (overlaps(C, c, A, a) || overlaps(C, c, B, b)) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (m == 0 || n == 0) return KL_OK;
    if (k == 0 || alpha == 0.0f) {
        kl_scale_c(m, n, beta, C, ldc);
        return KL_OK;
    }
    return v->fn.matmul_t(trans_a != 0, trans_b != 0, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* Two arrays of the same length either are the same array or do not overlap. */
static int same_or_apart(const void *a, const void *b, size_t bytes) {
    return a == b || !overlaps(a, bytes, b, bytes);
}

kl_status kl_relu_backward_run(const kl_variant *v, ptrdiff_t n, const float *y, const float *dy,
                               float *dx) {
    if (!v || v->op != KL_OP_RELU_BACKWARD) return KL_EINVAL;
    int ok = 1;
    size_t bytes = contiguous_bytes(1, n, &ok);
    if (!ok || needs_pointer(bytes, y) || needs_pointer(bytes, dy) || needs_pointer(bytes, dx))
        return KL_EINVAL;
    if (!same_or_apart(dx, dy, bytes) || !same_or_apart(dx, y, bytes)) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (n == 0) return KL_OK;
    return v->fn.relu_backward(n, y, dy, dx);
}

kl_status kl_layernorm_backward_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                                    const float *x, const float *gamma, const float *mean,
                                    const float *rstd, const float *dy, float *dx, float *dgamma,
                                    float *dbeta) {
    if (!v || v->op != KL_OP_LAYERNORM_BACKWARD) return KL_EINVAL;
    int ok = 1;
    size_t xy = contiguous_bytes(rows, cols, &ok), gb = contiguous_bytes(1, cols, &ok);
    size_t stats = contiguous_bytes(1, rows, &ok);
    if (!ok) return KL_EINVAL;
    if (xy == 0) stats = gb = 0; /* nothing is read; dgamma, dbeta are zeroed below */
    if (needs_pointer(xy, x) || needs_pointer(xy, dy) || needs_pointer(xy, dx) ||
        needs_pointer(gb, gamma) || needs_pointer(stats, mean) || needs_pointer(stats, rstd))
        return KL_EINVAL;
    if (!same_or_apart(dx, dy, xy)) return KL_EINVAL; /* dx == dy is in place */
    size_t gcols = contiguous_bytes(1, cols, &ok); /* dgamma, dbeta are written even for rows 0 */
    const void *in[] = {x, gamma, mean, rstd, dy};
    size_t in_bytes[] = {xy, gb, stats, stats, xy};
    for (int i = 0; i < 5; i++)
        if (i != 4 && overlaps(dx, xy, in[i], in_bytes[i])) return KL_EINVAL;
    float *grads[] = {dgamma, dbeta};
    for (int g = 0; g < 2; g++) {
        if (!grads[g]) continue;
        if (overlaps(grads[g], gcols, dx, xy)) return KL_EINVAL;
        for (int i = 0; i < 5; i++)
            if (overlaps(grads[g], gcols, in[i], in_bytes[i])) return KL_EINVAL;
    }
    if (dgamma && dbeta && overlaps(dgamma, gcols, dbeta, gcols)) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (xy == 0) { /* no rows: the sums are 0 */
        for (ptrdiff_t c = 0; rows == 0 && c < cols; c++) {
            if (dgamma) dgamma[c] = 0.0f;
            if (dbeta) dbeta[c] = 0.0f;
        }
        return KL_OK;
    }
    return v->fn.layernorm_backward(rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta);
}

kl_status kl_bias_backward_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                               const float *dy, ptrdiff_t ldy, float *db) {
    if (!v || v->op != KL_OP_BIAS_BACKWARD) return KL_EINVAL;
    int ok = 1;
    size_t d = span_bytes(rows, cols, ldy, &ok), b = contiguous_bytes(1, cols, &ok);
    if (!ok || needs_pointer(d, dy) || needs_pointer(b, db) || overlaps(db, b, dy, d))
        return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (cols == 0) return KL_OK;
    if (rows == 0) {
        for (ptrdiff_t c = 0; c < cols; c++) db[c] = 0.0f;
        return KL_OK;
    }
    return v->fn.bias_backward(rows, cols, dy, ldy, db);
}

kl_status kl_softmax_xent_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                              const float *logits, const int *labels, float *loss,
                              float *dlogits) {
    if (!v || v->op != KL_OP_SOFTMAX_XENT) return KL_EINVAL;
    int ok = 1;
    size_t z = contiguous_bytes(rows, cols, &ok);
    if (!ok || !loss || (rows > 0 && cols == 0) || needs_pointer(z, logits) ||
        (rows > 0 && !labels))
        return KL_EINVAL;
    size_t lab = (size_t)rows * sizeof(int);
    if (dlogits && (overlaps(dlogits, z, logits, z) || overlaps(dlogits, z, labels, lab) ||
                    overlaps(dlogits, z, loss, sizeof *loss)))
        return KL_EINVAL;
    if (overlaps(loss, sizeof *loss, logits, z) || overlaps(loss, sizeof *loss, labels, lab))
        return KL_EINVAL;
    for (ptrdiff_t r = 0; r < rows; r++)
        if (labels[r] < 0 || labels[r] >= cols) return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (rows == 0) {
        *loss = 0.0f;
        return KL_OK;
    }
    return v->fn.softmax_xent(rows, cols, logits, labels, loss, dlogits);
}

kl_status kl_sgd_momentum_run(const kl_variant *v, ptrdiff_t n, float lr, float momentum,
                              float weight_decay, float *w, const float *g, float *v_buf) {
    if (!v || v->op != KL_OP_SGD_MOMENTUM) return KL_EINVAL;
    if (!finite(lr) || !finite(momentum) || !finite(weight_decay)) return KL_EINVAL;
    int ok = 1;
    size_t bytes = contiguous_bytes(1, n, &ok);
    if (!ok || needs_pointer(bytes, w) || needs_pointer(bytes, g) || needs_pointer(bytes, v_buf))
        return KL_EINVAL;
    if (overlaps(w, bytes, g, bytes) || overlaps(w, bytes, v_buf, bytes) ||
        overlaps(g, bytes, v_buf, bytes))
        return KL_EINVAL;
    if (!kl_variant_available(v)) return KL_EUNSUPPORTED;
    if (n == 0) return KL_OK;
    return v->fn.sgd_momentum(n, lr, momentum, weight_decay, w, g, v_buf);
}

/* The best available variant of each training op. */
kl_status kl_matmul_t(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                      const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                      float *C, ptrdiff_t ldc) {
    return kl_matmul_t_run(kl_best_variant(KL_OP_MATMUL_T), trans_a, trans_b, m, n, k, alpha, A,
                           lda, B, ldb, beta, C, ldc);
}

kl_status kl_relu_backward(ptrdiff_t n, const float *y, const float *dy, float *dx) {
    return kl_relu_backward_run(kl_best_variant(KL_OP_RELU_BACKWARD), n, y, dy, dx);
}

kl_status kl_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                                const float *mean, const float *rstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta) {
    return kl_layernorm_backward_run(kl_best_variant(KL_OP_LAYERNORM_BACKWARD), rows, cols, x,
                                     gamma, mean, rstd, dy, dx, dgamma, dbeta);
}

kl_status kl_bias_backward(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                           float *db) {
    return kl_bias_backward_run(kl_best_variant(KL_OP_BIAS_BACKWARD), rows, cols, dy, ldy, db);
}

kl_status kl_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *logits, const int *labels,
                          float *loss, float *dlogits) {
    return kl_softmax_xent_run(kl_best_variant(KL_OP_SOFTMAX_XENT), rows, cols, logits, labels,
                               loss, dlogits);
}

kl_status kl_sgd_momentum(ptrdiff_t n, float lr, float momentum, float weight_decay, float *w,
                          const float *g, float *v) {
    return kl_sgd_momentum_run(kl_best_variant(KL_OP_SGD_MOMENTUM), n, lr, momentum, weight_decay,
                               w, g, v);
}
