#define _POSIX_C_SOURCE 200809L /* mkdtemp */
/* The capstone's test, seconds not minutes (the full 10-epoch run is in scripts/bench.sh):
 *   - a missing dataset names its Debian package; corrupt IDX files (not IDX, truncated,
 *     damaged gzip, bad labels) are one-line errors, not crashes;
 *   - 200 steps of batch 64 on the first 12800 training images: the mean loss of the last 20
 *     steps is below 0.6 x that of the first 20, and test accuracy on 2000 images >= 0.75;
 *   - the naive and best rung families agree on the first steps' losses (1e-3 relative);
 *   - the same seed and threads give the same weights, bit for bit.
 * Exit 77 (skipped) after the error checks when the dataset is not installed. */
#include "mlp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
}

static void write_gz(const char *path, const unsigned char *bytes, size_t n) {
    gzFile f = gzopen(path, "wb");
    if (!f || gzwrite(f, bytes, (unsigned)n) != (int)n || gzclose(f) != Z_OK) {
        fprintf(stderr, "mlp_test: cannot write %s\n", path);
        exit(2);
    }
}

static void write_raw(const char *path, const unsigned char *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(bytes, 1, n, f) != n || fclose(f)) exit(2);
}

static int load_fails(const char *dir, const char *needle) {
    mlp_data d;
    char err[4352] = "";
    int rc = mlp_load(dir, "t10k", 0, &d, err, sizeof err);
    printf("     -> %s\n", err);
    return rc == -1 && d.images == NULL && strstr(err, needle) != NULL;
}

static void bad_datasets(void) {
    check(load_fails("/nonexistent/fashion-mnist", MLP_PACKAGE), "a missing dataset names the package");
    char dir[] = "/tmp/kl_mlp_test_XXXXXX", images[128], labels[128];
    if (!mkdtemp(dir)) exit(2);
    snprintf(images, sizeof images, "%s/t10k-images-idx3-ubyte.gz", dir);
    snprintf(labels, sizeof labels, "%s/t10k-labels-idx1-ubyte.gz", dir);
    unsigned char head[16 + 2 * 784] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28};
    unsigned char lab[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 7};
    write_gz(labels, lab, sizeof lab);

    write_gz(images, (const unsigned char *)"hello, not an IDX file", 22);
    check(load_fails(dir, "not an IDX file"), "a file that is not IDX");
    write_gz(images, head, 16 + 784); /* the header promises 2 images, the file has 1 */
    check(load_fails(dir, "truncated"), "a truncated IDX file");
    { /* a gzip stream damaged in the middle */
        write_gz(images, head, sizeof head);
        FILE *f = fopen(images, "rb");
        unsigned char buf[4096];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        for (size_t i = 12; i + 8 < n; i += 3) buf[i] ^= 0x5a;
        write_raw(images, buf, n);
        check(load_fails(dir, images), "a damaged gzip stream");
    }
    head[7] = 0, head[4] = 0x7f; /* 2 Gi images */
    write_gz(images, head, 16);
    check(load_fails(dir, images), "an implausible header");
    head[4] = 0, head[7] = 2;
    write_gz(images, head, sizeof head);
    lab[9] = 12;
    write_gz(labels, lab, sizeof lab);
    check(load_fails(dir, "not a class"), "a label outside 0..9");
    lab[9] = 7;
    write_gz(labels, lab, sizeof lab);
    mlp_data d;
    char err[4352];
    check(mlp_load(dir, "t10k", 0, &d, err, sizeof err) == 0 && d.count == 2 && d.labels[1] == 7,
          "the same files, repaired, load");
    mlp_data_free(&d);
    unlink(images), unlink(labels), rmdir(dir);
}

/* steps of batch rows from the start of train (no shuffle); losses[i] per step. */
static kl_status run(const char *family, const mlp_data *train, ptrdiff_t batch, int steps,
                     float *losses, mlp *m) {
    mlp_ops ops;
    char err[256];
    if (mlp_ops_for(family, &ops, err, sizeof err)) return KL_EUNSUPPORTED;
    kl_status s = mlp_init(m, batch, 1, NULL);
    ptrdiff_t *idx = malloc(sizeof(ptrdiff_t) * (size_t)batch);
    for (int t = 0; t < steps && s == KL_OK; t++) {
        for (ptrdiff_t r = 0; r < batch; r++) idx[r] = (t * batch + r) % train->count;
        mlp_gather(m, train, idx, batch);
        s = mlp_step(m, &ops, batch, 0.05f, 0.9f, 0.0f, &losses[t]);
    }
    free(idx);
    return s;
}

int main(void) {
    bad_datasets();
    mlp_data train, test;
    char err[4352];
    if (mlp_load(MLP_DATA_DIR, "train", 12800, &train, err, sizeof err) ||
        mlp_load(MLP_DATA_DIR, "t10k", 2000, &test, err, sizeof err)) {
        printf("SKIP training: %s\n", err);
        return failures ? 1 : 77;
    }
    kl_set_num_threads(2);
    enum { STEPS = 200 };
    float loss[STEPS];
    mlp m;
    kl_stub_reset();
    kl_status s = run("best", &train, 64, STEPS, loss, &m);
    if (s != KL_OK) /* a student tree names the first stub a step reached */
        printf("     training stopped: %s%s%s\n", kl_status_str(s), kl_stub_reached() ? ": write " : "",
               kl_stub_reached() ? kl_stub_reached() : "");
    double first = 0, last = 0, acc = 0;
    for (int i = 0; i < 20; i++) first += loss[i] / 20, last += loss[STEPS - 20 + i] / 20;
    mlp_ops best;
    mlp_ops_for("best", &best, err, sizeof err);
    if (s == KL_OK) s = mlp_accuracy(&m, &best, &test, &acc);
    printf("     200 steps: mean loss %.4f (first 20) -> %.4f (last 20), accuracy %.4f on %td test images\n",
           first, last, acc, test.count);
    check(s == KL_OK && last < 0.6 * first, "the loss goes down (last 20 steps < 0.6 x first 20)");
    check(s == KL_OK && acc >= 0.75, "test accuracy >= 0.75 after 200 steps");

    float loss2[STEPS];
    { /* determinism: 20 steps twice */
        mlp a, b;
        kl_status sa = run("best", &train, 64, 20, loss, &a), sb = run("best", &train, 64, 20, loss2, &b);
        check(sa == KL_OK && sb == KL_OK && memcmp(a.params, b.params, sizeof(float) * a.nparams) == 0,
              "the same seed and threads give the same weights, bit for bit");
        mlp_free(&a), mlp_free(&b);
    }
    { /* the ladder agrees with itself: naive vs best on the first steps */
        mlp a, b;
        kl_status sa = run("naive", &train, 64, 3, loss, &a), sb = run("best", &train, 64, 3, loss2, &b);
        int ok = sa == KL_OK && sb == KL_OK;
        for (int i = 0; ok && i < 3; i++) ok = fabsf(loss[i] - loss2[i]) <= 1e-3f * loss2[i];
        printf("     first 3 losses: naive %.6f %.6f %.6f, best %.6f %.6f %.6f\n", loss[0], loss[1],
               loss[2], loss2[0], loss2[1], loss2[2]);
        check(ok, "the naive and best families agree on the first 3 losses (1e-3 relative)");
        mlp_free(&a), mlp_free(&b);
    }
    mlp_free(&m);
    mlp_data_free(&train), mlp_data_free(&test);
    kl_set_num_threads(0);
    return failures ? 1 : 0;
}
