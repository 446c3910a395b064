/* Fashion-MNIST's IDX files through zlib: a 4-byte magic (0, 0, type 0x08 = unsigned byte,
 * number of dimensions), the dimensions as big-endian 32-bit counts, then the bytes. Every
 * way a file can be wrong (missing, not gzip, truncated, wrong header, labels > 9) is a
 * one-line message, never a crash. */
#include "mlp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define MAX_BYTES ((ptrdiff_t)1 << 31) /* far above the 47 MB of the training images */

int mlp_read_idx(const char *path, int dims, ptrdiff_t *shape, uint8_t **out, char *err,
                 size_t errlen) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s (install the Debian package %s: apt-get install %s)", path,
                 strerror(errno), MLP_PACKAGE, MLP_PACKAGE);
        return -1;
    }
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
        return -1;
    }
    unsigned char head[4 + 4 * 3];
    int want = 4 + 4 * dims, got = gzread(f, head, (unsigned)want);
    int zerr;
    const char *zmsg = gzerror(f, &zerr);
    if (got < 0 || zerr < 0) {
        snprintf(err, errlen, "%s: not a readable gzip file (%s)", path, zmsg);
        gzclose(f);
        return -1;
    }
    if (got != want || head[0] || head[1] || head[2] != 0x08 || head[3] != dims) {
        snprintf(err, errlen, "%s: not an IDX file of unsigned bytes with %d dimension(s)", path, dims);
        gzclose(f);
        return -1;
    }
    ptrdiff_t total = 1;
    for (int i = 0; i < dims; i++) {
        const unsigned char *p = head + 4 + 4 * i;
        shape[i] = (ptrdiff_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
        if (shape[i] == 0 || shape[i] > MAX_BYTES / total) {
            snprintf(err, errlen, "%s: implausible dimension %td in the IDX header", path, shape[i]);
            gzclose(f);
            return -1;
        }
        total *= shape[i];
    }
    uint8_t *buf = malloc((size_t)total);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory for %td bytes", path, total);
        gzclose(f);
        return -1;
    }
    ptrdiff_t have = 0;
    while (have < total) {
        unsigned chunk = total - have > (1 << 30) ? 1u << 30 : (unsigned)(total - have);
        int n = gzread(f, buf + have, chunk);
        if (n <= 0) break;
        have += n;
    }
    zmsg = gzerror(f, &zerr);
    if (zerr < 0 || have != total) {
        if (zerr < 0)
            snprintf(err, errlen, "%s: corrupt gzip data (%s)", path, zmsg);
        else
            snprintf(err, errlen, "%s: truncated: the header says %td bytes, the file has %td", path,
                     total, have);
        free(buf);
        gzclose(f);
        return -1;
    }
    gzclose(f);
    *out = buf;
    return 0;
}

int mlp_load(const char *dir, const char *split, ptrdiff_t limit, mlp_data *d, char *err,
             size_t errlen) {
    char path[4096];
    ptrdiff_t ishape[3], lshape[1];
    uint8_t *labels = NULL;
    *d = (mlp_data){0};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, split);
    if (mlp_read_idx(path, 3, ishape, &d->images, err, errlen)) return -1;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, split);
    if (mlp_read_idx(path, 1, lshape, &labels, err, errlen)) return mlp_data_free(d), -1;
    if (ishape[1] != 28 || ishape[2] != 28 || lshape[0] != ishape[0]) {
        snprintf(err, errlen, "%s/%s: %td images of %tdx%td and %td labels (want 28x28, one label each)",
                 dir, split, ishape[0], ishape[1], ishape[2], lshape[0]);
        free(labels);
        return mlp_data_free(d), -1;
    }
    d->count = limit > 0 && limit < ishape[0] ? limit : ishape[0];
    d->labels = malloc(sizeof(int) * (size_t)d->count);
    if (!d->labels) {
        snprintf(err, errlen, "out of memory");
        free(labels);
        return mlp_data_free(d), -1;
    }
    for (ptrdiff_t i = 0; i < d->count; i++) {
        if (labels[i] > 9) {
            snprintf(err, errlen, "%s: label %d at %td is not a class 0..9", path, labels[i], i);
            free(labels);
            return mlp_data_free(d), -1;
        }
        d->labels[i] = labels[i];
    }
    free(labels);
    return 0;
}

void mlp_data_free(mlp_data *d) {
    free(d->images);
    free(d->labels);
    *d = (mlp_data){0};
}
