/* build/modules/05_mlp/train_step: ONE training step of the MLP on a synthetic batch, for
 * Valgrind Massif (scripts/profile_training), and with --predict the bytes it should hold at
 * its peak, from the formula (mlp.h, the lesson's README):
 *   model     = 4 (3P + B r)   P parameters (weights, gradients, momentum: 3P floats),
 *                              r = 1961 floats of activations and their gradients per row
 *   batch     = B (784 + 4 + 8)  the synthetic images (bytes), labels (int) and row indices
 *   scratch   = the largest scratch_bytes of any one op call in the step (each call frees its
 *               packing buffers before the next one allocates)
 * usage: train_step [--batch B] [--threads T] [--variant FAMILY] [--predict] */
#include "mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t scratch_of(const kl_variant *v, ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2, int t) {
    return v->scratch_bytes ? v->scratch_bytes(d0, d1, d2, t) : 0;
}

/* The largest scratch any call of mlp_step makes (shapes as in mlp.c). */
static size_t step_scratch(const mlp_ops *o, ptrdiff_t B, int t) {
    const ptrdiff_t mm[3][3] = {{B, MLP_H1, MLP_IN}, {B, MLP_H2, MLP_H1}, {B, MLP_OUT, MLP_H2}};
    const ptrdiff_t mt[5][3] = {{MLP_IN, MLP_H1, B}, {MLP_H1, MLP_H2, B}, {MLP_H2, MLP_OUT, B},
                                {B, MLP_H2, MLP_OUT}, {B, MLP_H1, MLP_H2}};
    size_t worst = 0, s;
    for (int i = 0; i < 3; i++)
        if ((s = scratch_of(o->matmul, mm[i][0], mm[i][1], mm[i][2], t)) > worst) worst = s;
    for (int i = 0; i < 5; i++)
        if ((s = scratch_of(o->matmul_t, mt[i][0], mt[i][1], mt[i][2], t)) > worst) worst = s;
    const ptrdiff_t widths[2] = {MLP_H1, MLP_H2};
    for (int i = 0; i < 2; i++)
        if ((s = scratch_of(o->layernorm_backward, B, widths[i], 0, t)) > worst) worst = s;
    return worst;
}

int main(int argc, char **argv) {
    long batch = 128, threads = 1;
    int predict = 0;
    const char *family = "best";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--predict")) predict = 1;
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atol(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atol(argv[++i]);
        else if (!strcmp(argv[i], "--variant") && i + 1 < argc) family = argv[++i];
        else {
            fputs("usage: train_step [--batch B] [--threads T] [--variant FAMILY] [--predict]\n"
                  "One MLP training step on a synthetic batch (for Valgrind Massif); --predict\n"
                  "prints the bytes it should hold at its peak, by part, as JSON.\n",
                  strcmp(argv[i], "--help") ? stderr : stdout);
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (batch < 1 || batch > 65536 || threads < 1 || threads > 1024)
        return fputs("train_step: --batch 1..65536, --threads 1..1024\n", stderr), 2;
    mlp_ops ops;
    char err[256];
    if (mlp_ops_for(family, &ops, err, sizeof err)) return fprintf(stderr, "train_step: %s\n", err), 2;
    kl_set_num_threads((int)threads);
    size_t P = mlp_param_count(), model = mlp_bytes(batch);
    size_t data = (size_t)batch * (MLP_IN + sizeof(int) + sizeof(ptrdiff_t));
    size_t scratch = step_scratch(&ops, batch, (int)threads);
    if (predict) {
        printf("{\"parameters\": %zu, \"weights_bytes\": %zu, \"gradients_bytes\": %zu, "
               "\"optimizer_bytes\": %zu, \"activations_bytes\": %zu, \"batch_bytes\": %zu, "
               "\"scratch_bytes\": %zu, \"predicted_bytes\": %zu}\n",
               P, 4 * P, 4 * P, 4 * P, model - 12 * P, data, scratch, model + data + scratch);
        return 0;
    }
    mlp_data d = {batch, malloc((size_t)batch * MLP_IN), malloc(sizeof(int) * (size_t)batch)};
    ptrdiff_t *idx = malloc(sizeof(ptrdiff_t) * (size_t)batch);
    mlp m;
    kl_status s = d.images && d.labels && idx ? mlp_init(&m, batch, 1, NULL) : KL_ENOMEM;
    for (ptrdiff_t r = 0; s == KL_OK && r < batch; r++) {
        for (int i = 0; i < MLP_IN; i++) d.images[r * MLP_IN + i] = (uint8_t)((r * 31 + i * 7) & 255);
        d.labels[r] = (int)(r % MLP_OUT), idx[r] = r;
    }
    float loss = 0;
    if (s == KL_OK) {
        mlp_gather(&m, &d, idx, batch);
        s = mlp_step(&m, &ops, batch, 0.05f, 0.9f, 0.0f, &loss);
        mlp_free(&m);
    }
    free(idx);
    mlp_data_free(&d);
    if (s != KL_OK) return fprintf(stderr, "train_step: %s\n", kl_status_str(s)), 1;
    printf("train_step: one step, batch %ld, %ld thread(s), loss %.4f\n", batch, threads, loss);
    return 0;
}
