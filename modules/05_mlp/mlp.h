/* The capstone model: an MLP trained on Fashion-MNIST with kernellab's own ops.
 *
 *   x[B][784] -> Linear 256 -> LayerNorm -> ReLU -> Linear 128 -> LayerNorm -> ReLU
 *             -> Linear 10 -> softmax cross-entropy (mean over the batch)
 *
 * Every parameter lives in ONE array (W1 b1 g1 be1 W2 b2 g2 be2 W3 b3, weights W[in][out]
 * row-major so a layer is x.W + b), its gradient in a second of the same layout and the SGD
 * momentum in a third: one optimizer call updates them all.
 *
 * Start and order are fixed by one seeded splitmix64 stream (scripts/train_peer draws the
 * same): W then b of each layer uniform in [-1/sqrt(in), 1/sqrt(in)) (PyTorch's default
 * bound), computed in double and rounded to float; LayerNorm gamma = 1, beta = 0; then per
 * epoch a Fisher-Yates shuffle from the top, swapping i with next() % (i + 1). */
#ifndef KL_MLP_H
#define KL_MLP_H

#include "kernellab.h"

#include <stddef.h>
#include <stdint.h>

enum { MLP_IN = 784, MLP_H1 = 256, MLP_H2 = 128, MLP_OUT = 10 };
#define MLP_PIXEL_MEAN 0.2860f /* of the training images, pixel / 255 */
#define MLP_PIXEL_STD 0.3530f
#define MLP_PACKAGE "dataset-fashion-mnist"
#define MLP_DATA_DIR "/usr/share/datasets/fashion-mnist"

/* ---- the dataset (IDX files, gzip) ---- */
typedef struct mlp_data {
    ptrdiff_t count;
    uint8_t *images; /* count x 784, row-major */
    int *labels;     /* count, each 0..9 */
} mlp_data;

/* Loads split "train" or "t10k" from dir (at most limit images; 0: all). Returns 0, or -1
 * with a one-line reason in err (a missing file names the Debian package). */
int mlp_load(const char *dir, const char *split, ptrdiff_t limit, mlp_data *d, char *err,
             size_t errlen);
/* The same for one IDX file of unsigned bytes with `dims` dimensions: *shape gets them, *out
 * the bytes (caller frees). */
int mlp_read_idx(const char *path, int dims, ptrdiff_t *shape, uint8_t **out, char *err,
                 size_t errlen);
void mlp_data_free(mlp_data *d);

/* ---- the generator both trainers share ---- */
uint64_t mlp_next(uint64_t *state);
void mlp_permutation(uint64_t *state, ptrdiff_t n, ptrdiff_t *idx);

/* ---- which variant runs each op: a rung family ---- */
typedef struct mlp_ops {
    const kl_variant *matmul, *matmul_t, *layernorm, *layernorm_backward, *relu, *relu_backward,
        *bias_backward, *softmax_xent, *sgd_momentum;
} mlp_ops;

/* family: "naive", "simd", "openmp" (the last available row of that rung for every op) or
 * "best" (what kl_matmul() etc. run). Returns 0, or -1 naming the op that has none. */
int mlp_ops_for(const char *family, mlp_ops *ops, char *err, size_t errlen);

/* ---- the model ---- */
typedef struct mlp {
    ptrdiff_t batch;                     /* rows of the buffers */
    size_t nparams;
    float *params, *grads, *velocity;
    float *W[3], *b[3], *gamma[2], *beta[2];     /* views into params */
    float *dW[3], *db[3], *dgamma[2], *dbeta[2]; /* the same offsets in grads */
    /* activations: x, the pre-LayerNorm z1 z2 (kept for the backward pass), h1 h2 (LayerNorm
     * then ReLU in place), logits; mean/rstd per row; d1 d2 the gradients flowing back */
    float *x, *z1, *z2, *h1, *h2, *logits, *dlogits, *mean[2], *rstd[2], *d1, *d2;
    int *labels;
    void *block; /* one allocation for all of it */
} mlp;

/* Bytes mlp_init allocates for a batch (the formula: parameters, gradients and momentum, 3P
 * floats; activations and their gradients per row; see the lesson's README). */
size_t mlp_bytes(ptrdiff_t batch);
size_t mlp_param_count(void);
/* Allocates and initialises from seed; the stream state after the weights goes to *rng. */
kl_status mlp_init(mlp *m, ptrdiff_t batch, uint64_t seed, uint64_t *rng);
void mlp_free(mlp *m);

/* Gathers rows idx[0..rows) of d into m->x (standardised pixels) and m->labels. */
void mlp_gather(mlp *m, const mlp_data *d, const ptrdiff_t *idx, ptrdiff_t rows);
/* One SGD step on the rows in m->x / m->labels: forward, loss, backward, update. */
kl_status mlp_step(mlp *m, const mlp_ops *ops, ptrdiff_t rows, float lr, float momentum,
                   float weight_decay, float *loss);
/* Forward only: logits for the rows in m->x. */
kl_status mlp_forward(mlp *m, const mlp_ops *ops, ptrdiff_t rows);
/* Fraction of d classified correctly (argmax of the logits), in batches of m->batch. */
kl_status mlp_accuracy(mlp *m, const mlp_ops *ops, const mlp_data *d, double *acc);

#endif
