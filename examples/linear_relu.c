/* A researcher's own program using an installed kernellab:
 *   cc linear_relu.c $(pkg-config --cflags --libs kernellab) -o linear_relu
 * One linear layer plus ReLU on a batch, y[B][N] = relu(x[B][K] . W[K][N]), through the
 * best variant this CPU has. Prints what ran and a checksum; exits non-zero on any error. */
#include <kernellab.h>
#include <stdio.h>
#include <stdlib.h>

enum { BATCH = 64, IN = 256, OUT = 128 };

int main(void) {
    float *x = malloc(sizeof(float) * BATCH * IN), *w = malloc(sizeof(float) * IN * OUT);
    float *y = malloc(sizeof(float) * BATCH * OUT);
    if (!x || !w || !y) return 1;
    for (int i = 0; i < BATCH * IN; i++) x[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < IN * OUT; i++) w[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;

    kl_status s = kl_matmul(BATCH, OUT, IN, 1.0f, x, IN, w, OUT, 0.0f, y, OUT);
    if (s == KL_OK) s = kl_relu(BATCH * OUT, y, y); /* in place */
    if (s != KL_OK) {
        fprintf(stderr, "kernellab: %s\n", kl_status_str(s));
        return 1;
    }
    double sum = 0.0;
    for (int i = 0; i < BATCH * OUT; i++) sum += y[i];
    printf("kernellab %s on %s: matmul=%s relu=%s checksum=%.6f\n", kl_version(),
           kl_isa_name(kl_cpu_isa()), kl_best_variant(KL_OP_MATMUL)->name,
           kl_best_variant(KL_OP_RELU)->name, sum);
    free(x), free(w), free(y);
    return 0;
}
