/* Shared helpers for the kernellab test suite: canary-guarded buffers, a seeded RNG,
 * shape lists, thread counts and pass/fail reporting. Every test iterates the registry,
 * so a new variant is tested without touching tests/. */
#ifndef KL_TEST_UTIL_H
#define KL_TEST_UTIL_H

#include "kernellab.h"
#include "reference.h"

#include <stddef.h>
#include <stdint.h>

/* ---- canary-guarded buffers ---------------------------------------------------------- */

/* A rows x cols row-major matrix with leading dimension ld, starting `off` floats past a
 * 64-byte boundary. Everything that is not an element (the guard before and after, the
 * offset gap, the padding between rows) holds the canary, so a write outside the matrix
 * is caught byte for byte. */
typedef struct tu_mat {
    float *block;       /* aligned allocation (free this) */
    float *p;           /* first element */
    ptrdiff_t rows, cols, ld, off;
    size_t nfloats;     /* floats in block */
    uint32_t canary;    /* bit pattern of every non-element float */
} tu_mat;

#define TU_GUARD 16     /* floats (64 bytes) of canary before and after */

/* Allocates and fills everything with the canary (exits on allocation failure). Each
 * allocation gets a different NaN payload, so an overrun that copies one buffer's canary
 * into another (relu passes NaN through bit for bit) still shows. */
void tu_mat_alloc(tu_mat *m, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, ptrdiff_t off);
/* The same with a chosen canary, e.g. a negative number that an in-place relu would change. */
void tu_mat_alloc_canary(tu_mat *m, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, ptrdiff_t off,
                         uint32_t canary);
void tu_mat_free(tu_mat *m);
/* Flat index (into block) of the first canary float that changed, or -1 if all intact. */
ptrdiff_t tu_mat_canary_broken(const tu_mat *m);
/* A byte copy of the whole block, to compare with memcmp after a call (caller frees). */
float *tu_mat_snapshot(const tu_mat *m);
int tu_mat_same(const tu_mat *m, const float *snapshot); /* 1 if byte-for-byte equal */

/* ---- seeded RNG (splitmix64) ---------------------------------------------------------- */

void tu_seed(uint64_t seed);
uint64_t tu_rand_u64(void);
float tu_uniform(float lo, float hi);
void tu_fill_uniform(tu_mat *m, float lo, float hi); /* elements only; padding keeps canary */

/* ---- shapes and threads --------------------------------------------------------------- */

/* A random size: 0..3 one time in eight, else log-uniform in [1, max]. */
ptrdiff_t tu_fuzz_size(ptrdiff_t max);

/* Appends v to list (if 0 <= v <= max and not present). Returns the new count. */
size_t tu_add(ptrdiff_t *list, size_t count, size_t cap, ptrdiff_t v, ptrdiff_t max);
/* 0, 1, 2, 3, primes, and 2^j - 1, 2^j, 2^j + 1 for 2^j <= max. Returns the count. */
size_t tu_edge_sizes(ptrdiff_t *list, size_t cap, ptrdiff_t max);
/* b - 1, b, b + 1 and 2b + 1 for each tile edge b the variant reports. Returns the count. */
size_t tu_block_sizes(const kl_variant *v, ptrdiff_t *list, size_t cap);
/* (m, n, k) shapes around a GEMM-like variant's tile edges b (from tu_block_sizes): one
 * dimension at b while the other two stay small (so NC ~ 8000 stays cheap), and again with the
 * other two at o ~ sqrt(1e7 / b) (13..263): about 1e7 flops, enough to leave a variant's direct
 * (unpacked) path for the packed one; then m x n over every pair of small edges (MR, NR).
 * Writes at most cap; returns how many. */
size_t tu_gemm_block_shapes(const kl_variant *v, ptrdiff_t (*shapes)[3], size_t cap);
/* Thread counts to run v with: 1..nproc and nproc + 1 if threaded, else just {0} (default). */
size_t tu_thread_counts(const kl_variant *v, int *list, size_t cap);
int tu_nproc(void);
/* Elements in a "large" call: 2 x the L2 size in bytes, read as a float count (at least 2^20),
 * past any size threshold a variant derives from L2 (e.g. non-temporal stores). */
ptrdiff_t tu_large(void);

/* ---- reporting ------------------------------------------------------------------------ */

typedef struct tu_group {
    const char *op, *variant, *name;
    int threads;        /* 0: not a thread sweep */
    long pass, fail;
} tu_group;

void tu_begin(tu_group *g, const kl_variant *v, const char *name, int threads);
/* Records one check; on failure prints "FAIL op/variant group [t=..]: <details>"
 * (at most a few lines per group, then a count). Returns ok. */
int tu_check(tu_group *g, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tu_end(tu_group *g);  /* prints "PASS|FAIL op/variant group: pass/total" */

/* For op-level checks with no variant (unknown name, ...). */
void tu_begin_op(tu_group *g, const char *op, const char *name);

/* 1 if v can run here; otherwise prints one SKIP line and returns 0. */
int tu_available_or_skip(const kl_variant *v);
/* 0 if every check passed, else 1: the process exit status. */
int tu_exit_code(void);

#endif
