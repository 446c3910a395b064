/* The op table and the drivers' common machinery: allocating and filling one call's buffers
 * from a descriptor. Every op's own facts are in its descriptor, kernels/<op>/<op>_op.c. */
#define _POSIX_C_SOURCE 200809L /* posix_memalign */
#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef KL_OPS_BLIS
#include <blis.h>
#endif

/* Every op in KL_OPS (kernellab.h) has its descriptor kl_<name>_op, in kernels/<name>/<name>_op.c. */
#define KL_OP_DESC_DECL_(id, name) extern const kl_op_desc kl_##name##_op;
KL_OPS(KL_OP_DESC_DECL_)
#undef KL_OP_DESC_DECL_

/* One row per op, indexed by kl_op. */
static const kl_op_desc *const table[KL_OP_COUNT] = {
#define KL_OP_DESC_ROW_(id, name) [KL_OP_##id] = &kl_##name##_op,
    KL_OPS(KL_OP_DESC_ROW_)
#undef KL_OP_DESC_ROW_
};

const kl_op_desc *kl_op_desc_of(kl_op op) {
    return (unsigned)op < KL_OP_COUNT ? table[op] : NULL;
}

const kl_op_desc *kl_op_desc_named(const char *name) {
    for (int i = 0; name && i < KL_OP_COUNT; i++)
        if (table[i] && strcmp(table[i]->name, name) == 0) return table[i];
    return NULL;
}

int kl_op_buf_index(const kl_op_desc *op, const char *name) {
    for (int i = 0; op && name && i < op->nbufs; i++)
        if (strcmp(op->bufs[i].name, name) == 0) return i;
    return -1;
}

int kl_op_param_index(const kl_op_desc *op, const char *name) {
    for (int i = 0; op && name && i < op->nparams; i++)
        if (strcmp(op->params[i].name, name) == 0) return i;
    return -1;
}

/* ---- buffers -------------------------------------------------------------------------- */

static ptrdiff_t extent(const ptrdiff_t *d, signed char dim) { return dim < 0 ? 1 : d[dim]; }

static int wanted(const kl_op_buf *b, unsigned flags) {
    return !(b->flags & KL_BUF_BASELINE) || (flags & KL_ARGS_BASELINE);
}

/* rows x ld floats, or 0 with *ok = 0 when it overflows. */
static size_t buf_floats(const kl_op_buf *b, const ptrdiff_t *d, ptrdiff_t pad, ptrdiff_t *ld,
                         int *ok) {
    ptrdiff_t rows = extent(d, b->rows), cols = extent(d, b->cols), total;
    *ld = cols + ((b->flags & KL_BUF_STRIDED) ? pad : 0);
    if (*ld < 1) *ld = 1;
    if (__builtin_mul_overflow(rows, *ld, &total) || total > PTRDIFF_MAX / 64) {
        *ok = 0;
        return 0;
    }
    return (size_t)total;
}

size_t kl_op_buf_floats(const kl_op_args *a, int i) {
    int ok = 1;
    ptrdiff_t ld;
    return buf_floats(&a->op->bufs[i], a->d, a->pad, &ld, &ok);
}

size_t kl_op_args_bytes(const kl_op_desc *op, const ptrdiff_t *d, unsigned flags) {
    size_t total = 0;
    for (int i = 0; i < op->nbufs; i++) {
        if (!wanted(&op->bufs[i], flags)) continue;
        int ok = 1;
        ptrdiff_t ld;
        size_t n = buf_floats(&op->bufs[i], d, 0, &ld, &ok);
        if (op->bufs[i].role == KL_BUF_INOUT && !(flags & KL_ARGS_NO_INITIAL)) n *= 2;
        total += n * sizeof(float);
    }
    return total;
}

/* Exactly n floats (Massif's prediction counts them), 64-byte aligned so runs are steady. */
static float *aligned_floats(size_t n) {
    void *p = NULL;
    return posix_memalign(&p, 64, (n ? n : 1) * sizeof(float)) == 0 ? p : NULL;
}

/* xorshift64*: the same stream on every platform, uniform in [lo, hi). */
static float next_uniform(uint64_t *s, float lo, float hi) {
    *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
    float u = (float)((*s * 0x2545F4914F6CDD1DULL) >> 40) / (float)(1 << 24);
    return lo + (hi - lo) * u;
}

static void fill(kl_op_args *a, int i, uint64_t seed, float lo, float hi) {
    const kl_op_buf *b = &a->op->bufs[i];
    float *p = a->owned[i];
    ptrdiff_t rows = extent(a->d, b->rows), cols = extent(a->d, b->cols), ld = a->ld[i];
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i + 1;
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t c = 0; c < ld; c++)
            p[r * ld + c] = c >= cols              ? NAN /* padding: never read */
                            : b->role == KL_BUF_OUT ? NAN
                                                    : next_uniform(&s, lo, hi);
}

kl_status kl_op_args_alloc(const kl_op_desc *op, const ptrdiff_t *d, ptrdiff_t pad,
                           uint64_t seed, unsigned flags, kl_op_args *a) {
    memset(a, 0, sizeof *a);
    a->op = op;
    if (!op || pad < 0) return KL_EINVAL;
    for (int j = 0; j < op->ndims; j++) {
        if (d[j] < 0) return KL_EINVAL;
        a->d[j] = d[j];
    }
    a->pad = pad;
    for (int j = 0; j < op->nparams; j++) a->p[j] = op->params[j].value;
    for (int i = 0; i < op->nbufs; i++) {
        const kl_op_buf *b = &op->bufs[i];
        if (!wanted(b, flags)) continue;
        int ok = 1;
        size_t n = buf_floats(b, a->d, pad, &a->ld[i], &ok);
        if (!ok) return KL_EINVAL;
        a->owned[i] = a->buf[i] = aligned_floats(n);
        if (!a->buf[i]) return KL_ENOMEM;
        fill(a, i, seed, b->lo, b->hi);
        if (b->role == KL_BUF_INOUT && !(flags & KL_ARGS_NO_INITIAL)) {
            a->owned[KL_OP_MAX_BUFS + i] = a->initial[i] = aligned_floats(n);
            if (!a->initial[i]) return KL_ENOMEM;
            memcpy(a->initial[i], a->buf[i], n * sizeof(float));
        }
    }
    return KL_OK;
}

void kl_op_args_free(kl_op_args *a) {
    for (int i = 0; i < 2 * KL_OP_MAX_BUFS; i++) free(a->owned[i]);
    memset(a->owned, 0, sizeof a->owned);
    memset(a->buf, 0, sizeof a->buf);
    memset(a->initial, 0, sizeof a->initial);
}

void kl_op_fill(kl_op_args *a, int i, uint64_t seed, float lo, float hi) {
    if (i < 0 || i >= a->op->nbufs || !a->owned[i]) return;
    fill(a, i, seed, lo, hi);
    if (a->initial[i]) memcpy(a->initial[i], a->owned[i], kl_op_buf_floats(a, i) * sizeof(float));
}

void kl_op_args_reset(kl_op_args *a) {
    for (int i = 0; i < a->op->nbufs; i++)
        if (a->initial[i] && a->owned[i])
            memcpy(a->owned[i], a->initial[i], kl_op_buf_floats(a, i) * sizeof(float));
}

size_t kl_op_stream_shapes(int quick, double bytes_per_n, ptrdiff_t small,
                           ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap) {
    const double l3 = (double)kl_cpu_cache_bytes(3), least = 64.0 * (1 << 20);
    const double dram = 4 * l3 > least ? 4 * l3 : least;
    const double ws[3] = {kl_cpu_cache_bytes(2) / 2.0, l3 / 2, dram};
    ptrdiff_t n[3];
    size_t count = 0;
    if (quick && small > 0) n[count++] = small;
    for (int i = 0; i < (quick ? 1 : 3); i++) n[count++] = (ptrdiff_t)(ws[i] / bytes_per_n);
    for (size_t i = 0; i < count && i < cap; i++)
        shapes[i][0] = n[i], shapes[i][1] = shapes[i][2] = 0;
    return count;
}

double kl_op_check_rows(const kl_op_args *a, int sample, ptrdiff_t rows, double madds_per_row,
                        ptrdiff_t ld_out,
                        double (*check_row)(const kl_op_args *a, ptrdiff_t i, ptrdiff_t *where),
                        ptrdiff_t *where) {
    const ptrdiff_t edge = 8;
    ptrdiff_t step = 1;
    if (sample && (double)rows * madds_per_row > (double)(1 << 27)) {
        ptrdiff_t inner = (ptrdiff_t)((double)(1 << 26) / madds_per_row) - 2 * edge;
        step = rows / (inner > 8 ? inner : 8);
        if (step < 1) step = 1;
        while (step % 2 == 0 || step % 3 == 0 || step % 7 == 0) step++;
    }
    double worst = 0;
    for (ptrdiff_t i = 0; i < rows; i++) {
        if (step > 1 && !(i < edge || i >= rows - edge || i % step == 0)) continue;
        ptrdiff_t at = -1;
        double w = check_row(a, i, &at);
        if (w > worst || w != w) worst = w, *where = i * ld_out + at;
    }
    return worst;
}

double kl_op_gemm_flops(const ptrdiff_t *d) { return 2.0 * d[0] * d[1] * d[2]; }

double kl_op_gemm_bytes(const ptrdiff_t *d) {
    return 4.0 * ((double)d[0] * d[2] + (double)d[2] * d[1] + (double)d[0] * d[1]);
}

#ifdef KL_OPS_BLIS
void kl_op_blis_gemm(const kl_op_args *a, int trans_a) {
    float alpha = a->p[0], beta = a->p[1];
    bli_sgemm(trans_a ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, a->d[0], a->d[1],
              a->d[2], &alpha, a->buf[0], a->ld[0], 1, a->buf[1], a->ld[1], 1, &beta, a->buf[2],
              a->ld[2], 1);
}
#endif

kl_status kl_op_call(const kl_variant *v, const kl_op_args *a) {
    if (!v || !a || !a->op || v->op != a->op->op) return KL_EINVAL;
    return a->op->call(v, a);
}

double kl_op_check(const kl_op_args *a, int sample, ptrdiff_t *where) {
    *where = -1;
    return a->op->check(a, sample, where);
}
