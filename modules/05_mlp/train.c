#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/* build/modules/05_mlp/train: train the MLP of mlp.h on Fashion-MNIST with one rung family
 * of kernellab's ops, and print one line per epoch and a final
 *   test_accuracy=0.xxxx epoch_s=...      (epoch_s: the median epoch's training time)
 * Run with --help for the flags. scripts/train_peer is the same run in PyTorch. */
#include "mlp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage_text[] =
    "usage: train [--epochs N] [--batch N] [--variant FAMILY] [--threads N] [--seed N]\n"
    "             [--lr X] [--momentum X] [--weight-decay X] [--train-limit N] [--test-limit N]\n"
    "             [--data DIR]\n"
    "Trains 784 -> 256 -> LayerNorm -> ReLU -> 128 -> LayerNorm -> ReLU -> 10 on Fashion-MNIST\n"
    "(softmax cross-entropy, SGD with momentum, cosine learning-rate decay per epoch).\n"
    "  --epochs N        passes over the training set (default 10)\n"
    "  --batch N         rows per step (default 128; the last step of an epoch may be smaller)\n"
    "  --variant FAMILY  which rung runs every op: naive, simd, openmp or best (default best)\n"
    "  --threads N       threads for the openmp rungs (default 1)\n"
    "  --seed N          the weights and the shuffles (default 1; same as scripts/train_peer)\n"
    "  --lr X            first epoch's learning rate (default 0.05); --momentum (0.9);\n"
    "                    --weight-decay (0)\n"
    "  --train-limit N, --test-limit N   use only the first N images (0: all)\n"
    "  --data DIR        the IDX files (default " MLP_DATA_DIR ", package " MLP_PACKAGE ")\n"
    "Prints one line per epoch, then `test_accuracy=0.xxxx epoch_s=S` (median epoch time, the\n"
    "training steps only). Exit status 1 on a missing or corrupt dataset, 2 on bad usage.\n";

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "train: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage_text);
    return 2;
}

static int parse_long(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    return *out = v, 1;
}

static int parse_float(const char *s, float *out) {
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end || !isfinite(v)) return 0;
    return *out = v, 1;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    long epochs = 10, batch = 128, threads = 1, seed = 1, train_limit = 0, test_limit = 0;
    float lr = 0.05f, momentum = 0.9f, weight_decay = 0.0f;
    const char *family = "best", *dir = MLP_DATA_DIR;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) return fputs(usage_text, stdout), 0;
        if (!val) return bad_usage("missing value or unknown flag", a);
        int ok = 1;
        if (!strcmp(a, "--epochs")) ok = parse_long(val, 1, 100000, &epochs);
        else if (!strcmp(a, "--batch")) ok = parse_long(val, 1, 1 << 16, &batch);
        else if (!strcmp(a, "--threads")) ok = parse_long(val, 1, 1024, &threads);
        else if (!strcmp(a, "--seed")) ok = parse_long(val, 0, __LONG_MAX__, &seed);
        else if (!strcmp(a, "--train-limit")) ok = parse_long(val, 0, __LONG_MAX__, &train_limit);
        else if (!strcmp(a, "--test-limit")) ok = parse_long(val, 0, __LONG_MAX__, &test_limit);
        else if (!strcmp(a, "--lr")) ok = parse_float(val, &lr);
        else if (!strcmp(a, "--momentum")) ok = parse_float(val, &momentum);
        else if (!strcmp(a, "--weight-decay")) ok = parse_float(val, &weight_decay);
        else if (!strcmp(a, "--variant")) family = val;
        else if (!strcmp(a, "--data")) dir = val;
        else return bad_usage("unknown flag", a);
        if (!ok) return bad_usage("bad value", a);
        i++;
    }
    char err[4352];
    mlp_ops ops;
    if (mlp_ops_for(family, &ops, err, sizeof err)) return fprintf(stderr, "train: %s\n", err), 2;
    kl_set_num_threads((int)threads);

    mlp_data train, test;
    if (mlp_load(dir, "train", train_limit, &train, err, sizeof err) ||
        mlp_load(dir, "t10k", test_limit, &test, err, sizeof err)) {
        fprintf(stderr, "train: %s\n", err);
        mlp_data_free(&train);
        return 1;
    }
    mlp m;
    uint64_t rng;
    ptrdiff_t *order = malloc(sizeof(ptrdiff_t) * (size_t)train.count);
    double *times = malloc(sizeof(double) * (size_t)epochs);
    kl_status st = order && times ? mlp_init(&m, batch, (uint64_t)seed, &rng) : KL_ENOMEM;
    printf("train: kernellab %s variant=%s threads=%ld batch=%ld train=%td test=%td "
           "(matmul %s, matmul_t %s, layernorm_backward %s)\n",
           kl_version(), family, threads, batch, train.count, test.count, ops.matmul->name,
           ops.matmul_t->name, ops.layernorm_backward->name);
    double acc = 0.0;
    for (long e = 1; e <= epochs && st == KL_OK; e++) {
        mlp_permutation(&rng, train.count, order);
        float lr_e = (float)(lr * 0.5 * (1.0 + cos(3.14159265358979323846 * (double)(e - 1) / (double)epochs)));
        double total = 0.0, t0 = now();
        for (ptrdiff_t s = 0; s < train.count && st == KL_OK; s += batch) {
            ptrdiff_t rows = train.count - s < batch ? train.count - s : batch;
            float loss;
            mlp_gather(&m, &train, order + s, rows);
            st = mlp_step(&m, &ops, rows, lr_e, momentum, weight_decay, &loss);
            total += (double)loss * (double)rows;
        }
        times[e - 1] = now() - t0;
        if (st == KL_OK) st = mlp_accuracy(&m, &ops, &test, &acc);
        if (st == KL_OK)
            printf("epoch=%ld loss=%.4f test_accuracy=%.4f epoch_s=%.3f\n", e,
                   total / (double)train.count, acc, times[e - 1]);
        fflush(stdout);
    }
    int rc = 0;
    if (st != KL_OK) {
        fprintf(stderr, "train: a kernel failed: %s\n", kl_status_str(st));
        rc = 1;
    } else {
        qsort(times, (size_t)epochs, sizeof *times, cmp_double);
        double median = epochs % 2 ? times[epochs / 2] : 0.5 * (times[epochs / 2 - 1] + times[epochs / 2]);
        printf("test_accuracy=%.4f epoch_s=%.3f\n", acc, median);
    }
    mlp_free(&m);
    mlp_data_free(&train), mlp_data_free(&test);
    free(order), free(times);
    return rc;
}
