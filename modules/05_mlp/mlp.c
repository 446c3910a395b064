/* The model of mlp.h: one allocation, the forward pass, the backward pass (each layer's
 * gradient from the next one's, by the training ops), one SGD step. */
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t mlp_next(uint64_t *state) { /* splitmix64 */
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void mlp_permutation(uint64_t *state, ptrdiff_t n, ptrdiff_t *idx) {
    for (ptrdiff_t i = 0; i < n; i++) idx[i] = i;
    for (ptrdiff_t i = n - 1; i > 0; i--) {
        ptrdiff_t j = (ptrdiff_t)(mlp_next(state) % (uint64_t)(i + 1)), t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
}

/* ---- rung families ---- */

static const kl_variant *family_variant(kl_op op, const char *family) {
    if (strcmp(family, "best") == 0) return kl_best_variant(op);
    const kl_variant *pick = NULL;
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op == op && kl_variant_available(v) && strcmp(v->rung, family) == 0) pick = v;
    }
    return pick;
}

int mlp_ops_for(const char *family, mlp_ops *o, char *err, size_t errlen) {
    const kl_op ops[] = {KL_OP_MATMUL, KL_OP_MATMUL_T, KL_OP_LAYERNORM, KL_OP_LAYERNORM_BACKWARD,
                         KL_OP_RELU, KL_OP_RELU_BACKWARD, KL_OP_BIAS_BACKWARD,
                         KL_OP_SOFTMAX_XENT, KL_OP_SGD_MOMENTUM};
    const kl_variant **slots[] = {&o->matmul, &o->matmul_t, &o->layernorm, &o->layernorm_backward,
                                  &o->relu, &o->relu_backward, &o->bias_backward,
                                  &o->softmax_xent, &o->sgd_momentum};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        *slots[i] = family_variant(ops[i], family);
        if (!*slots[i]) {
            snprintf(err, errlen, "no '%s' variant of %s on this CPU/build (families: naive, simd, openmp, best)",
                     family, kl_op_name(ops[i]));
            return -1;
        }
    }
    return 0;
}

/* ---- memory ---- */

static const ptrdiff_t fan_in[3] = {MLP_IN, MLP_H1, MLP_H2}, fan_out[3] = {MLP_H1, MLP_H2, MLP_OUT};

size_t mlp_param_count(void) {
    size_t p = 0;
    for (int l = 0; l < 3; l++) p += (size_t)(fan_in[l] * fan_out[l] + fan_out[l]);
    return p + 2 * (MLP_H1 + MLP_H2); /* gamma, beta of both LayerNorms */
}

/* Per row of a batch: x, z1, h1, d1 (784 + 3 x 256), z2, h2, d2 (3 x 128), logits and their
 * gradient (2 x 10), mean and rstd of both LayerNorms (4), the label (an int: 4 bytes). */
static size_t row_floats(void) {
    return MLP_IN + 3 * MLP_H1 + 3 * MLP_H2 + 2 * MLP_OUT + 4 + 1;
}

size_t mlp_bytes(ptrdiff_t batch) {
    return sizeof(float) * (3 * mlp_param_count() + (size_t)batch * row_floats());
}

kl_status mlp_init(mlp *m, ptrdiff_t batch, uint64_t seed, uint64_t *rng) {
    *m = (mlp){0};
    if (batch < 1) return KL_EINVAL;
    size_t P = mlp_param_count();
    float *f = calloc(1, mlp_bytes(batch));
    if (!f) return KL_ENOMEM;
    m->block = f, m->batch = batch, m->nparams = P;
    m->params = f, m->grads = f + P, m->velocity = f + 2 * P;
    float *p = m->params, *g = m->grads;
    for (int l = 0; l < 3; l++) { /* W b [gamma beta] per layer, the same offsets in grads */
        m->W[l] = p, m->dW[l] = g, p += fan_in[l] * fan_out[l], g += fan_in[l] * fan_out[l];
        m->b[l] = p, m->db[l] = g, p += fan_out[l], g += fan_out[l];
        if (l < 2) {
            m->gamma[l] = p, m->dgamma[l] = g, p += fan_out[l], g += fan_out[l];
            m->beta[l] = p, m->dbeta[l] = g, p += fan_out[l], g += fan_out[l];
        }
    }
    float *a = f + 3 * P;
    const ptrdiff_t B = batch;
    m->x = a, a += B * MLP_IN;
    m->z1 = a, a += B * MLP_H1;
    m->h1 = a, a += B * MLP_H1;
    m->d1 = a, a += B * MLP_H1;
    m->z2 = a, a += B * MLP_H2;
    m->h2 = a, a += B * MLP_H2;
    m->d2 = a, a += B * MLP_H2;
    m->logits = a, a += B * MLP_OUT;
    m->dlogits = a, a += B * MLP_OUT;
    for (int l = 0; l < 2; l++) m->mean[l] = a, a += B, m->rstd[l] = a, a += B;
    m->labels = (int *)a; /* sizeof(int) == sizeof(float) on every target we build for */

    uint64_t s = seed;
    for (int l = 0; l < 3; l++) {
        double bound = 1.0 / sqrt((double)fan_in[l]);
        for (ptrdiff_t i = 0; i < fan_in[l] * fan_out[l] + fan_out[l]; i++) { /* W then b */
            double u = (double)(mlp_next(&s) >> 11) / 9007199254740992.0;
            float v = (float)(-bound + 2.0 * bound * u);
            if (i < fan_in[l] * fan_out[l]) m->W[l][i] = v;
            else m->b[l][i - fan_in[l] * fan_out[l]] = v;
        }
        if (l < 2)
            for (ptrdiff_t c = 0; c < fan_out[l]; c++) m->gamma[l][c] = 1.0f, m->beta[l][c] = 0.0f;
    }
    if (rng) *rng = s;
    return KL_OK;
}

void mlp_free(mlp *m) {
    free(m->block);
    *m = (mlp){0};
}

/* A pixel's standardised value, (p / 255 - mean) / std in float (as the peer computes it),
 * tabulated once: 256 values instead of two divisions per pixel per step. */
static const float *pixel_table(void) {
    static float table[256];
    static volatile int ready; /* benign race: every caller writes the same values */
    if (!ready) {
        for (int p = 0; p < 256; p++) table[p] = ((float)p / 255.0f - MLP_PIXEL_MEAN) / MLP_PIXEL_STD;
        ready = 1;
    }
    return table;
}

void mlp_gather(mlp *m, const mlp_data *d, const ptrdiff_t *idx, ptrdiff_t rows) {
    const float *t = pixel_table();
    for (ptrdiff_t r = 0; r < rows; r++) {
        const uint8_t *px = d->images + idx[r] * MLP_IN;
        float *x = m->x + r * MLP_IN;
        for (int i = 0; i < MLP_IN; i++) x[i] = t[px[i]];
        m->labels[r] = d->labels[idx[r]];
    }
}

/* ---- forward and backward ---- */

#define TRY(call)                           \
    do {                                    \
        kl_status s_ = (call);              \
        if (s_ != KL_OK) return s_;         \
    } while (0)

/* out[rows][n] = in[rows][k] . W[k][n] + b: the bias is copied into every row first, then the
 * product is added to it (beta = 1), so no separate bias pass reads the output again. */
static kl_status linear(const mlp_ops *o, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k,
                        const float *in, const float *W, const float *b, float *out) {
    for (ptrdiff_t r = 0; r < rows; r++) memcpy(out + r * n, b, sizeof(float) * (size_t)n);
    return kl_matmul_run(o->matmul, rows, n, k, 1.0f, in, k, W, n, 1.0f, out, n);
}

/* z = linear(in); h = relu(layernorm(z)), keeping z, mean and rstd for the backward pass. */
static kl_status hidden(mlp *m, const mlp_ops *o, int l, ptrdiff_t rows, const float *in,
                        float *z, float *h) {
    TRY(linear(o, rows, fan_out[l], fan_in[l], in, m->W[l], m->b[l], z));
    TRY(kl_layernorm_run(o->layernorm, rows, fan_out[l], z, m->gamma[l], m->beta[l], 1e-5f, h,
                         m->mean[l], m->rstd[l]));
    return kl_relu_run(o->relu, rows * fan_out[l], h, h);
}

kl_status mlp_forward(mlp *m, const mlp_ops *o, ptrdiff_t rows) {
    if (rows < 1 || rows > m->batch) return KL_EINVAL;
    TRY(hidden(m, o, 0, rows, m->x, m->z1, m->h1));
    TRY(hidden(m, o, 1, rows, m->h1, m->z2, m->h2));
    return linear(o, rows, MLP_OUT, MLP_H2, m->h2, m->W[2], m->b[2], m->logits);
}

/* Given d = dL/dh (rows x width) of hidden layer l, in place: through ReLU (h's sign), then
 * LayerNorm (from z, mean, rstd) into dL/dz, writing dgamma and dbeta; then dW = in^T . d and
 * db = column sums of d. */
static kl_status hidden_backward(mlp *m, const mlp_ops *o, int l, ptrdiff_t rows,
                                 const float *in, const float *z, const float *h, float *d) {
    ptrdiff_t w = fan_out[l];
    TRY(kl_relu_backward_run(o->relu_backward, rows * w, h, d, d));
    TRY(kl_layernorm_backward_run(o->layernorm_backward, rows, w, z, m->gamma[l], m->mean[l],
                                  m->rstd[l], d, d, m->dgamma[l], m->dbeta[l]));
    TRY(kl_matmul_t_run(o->matmul_t, 1, 0, fan_in[l], w, rows, 1.0f, in, fan_in[l], d, w, 0.0f,
                        m->dW[l], w));
    return kl_bias_backward_run(o->bias_backward, rows, w, d, w, m->db[l]);
}

kl_status mlp_step(mlp *m, const mlp_ops *o, ptrdiff_t rows, float lr, float momentum,
                   float weight_decay, float *loss) {
    TRY(mlp_forward(m, o, rows));
    TRY(kl_softmax_xent_run(o->softmax_xent, rows, MLP_OUT, m->logits, m->labels, loss,
                            m->dlogits));
    /* output layer: dW3 = h2^T . dlogits, db3, and d2 = dlogits . W3^T */
    TRY(kl_matmul_t_run(o->matmul_t, 1, 0, MLP_H2, MLP_OUT, rows, 1.0f, m->h2, MLP_H2, m->dlogits,
                        MLP_OUT, 0.0f, m->dW[2], MLP_OUT));
    TRY(kl_bias_backward_run(o->bias_backward, rows, MLP_OUT, m->dlogits, MLP_OUT, m->db[2]));
    TRY(kl_matmul_t_run(o->matmul_t, 0, 1, rows, MLP_H2, MLP_OUT, 1.0f, m->dlogits, MLP_OUT,
                        m->W[2], MLP_OUT, 0.0f, m->d2, MLP_H2));
    TRY(hidden_backward(m, o, 1, rows, m->h1, m->z2, m->h2, m->d2));
    /* d1 = d2 . W2^T; the input layer needs no dL/dx */
    TRY(kl_matmul_t_run(o->matmul_t, 0, 1, rows, MLP_H1, MLP_H2, 1.0f, m->d2, MLP_H2, m->W[1],
                        MLP_H2, 0.0f, m->d1, MLP_H1));
    TRY(hidden_backward(m, o, 0, rows, m->x, m->z1, m->h1, m->d1));
    return kl_sgd_momentum_run(o->sgd_momentum, (ptrdiff_t)m->nparams, lr, momentum,
                               weight_decay, m->params, m->grads, m->velocity);
}

kl_status mlp_accuracy(mlp *m, const mlp_ops *o, const mlp_data *d, double *acc) {
    ptrdiff_t right = 0, *idx = malloc(sizeof(ptrdiff_t) * (size_t)m->batch);
    if (!idx) return KL_ENOMEM;
    for (ptrdiff_t s = 0; s < d->count; s += m->batch) {
        ptrdiff_t rows = d->count - s < m->batch ? d->count - s : m->batch;
        for (ptrdiff_t r = 0; r < rows; r++) idx[r] = s + r;
        mlp_gather(m, d, idx, rows);
        kl_status st = mlp_forward(m, o, rows);
        if (st != KL_OK) return free(idx), st;
        for (ptrdiff_t r = 0; r < rows; r++) {
            const float *z = m->logits + r * MLP_OUT;
            int best = 0;
            for (int c = 1; c < MLP_OUT; c++)
                if (z[c] > z[best]) best = c;
            right += best == m->labels[r];
        }
    }
    free(idx);
    *acc = d->count ? (double)right / (double)d->count : 0.0;
    return KL_OK;
}
