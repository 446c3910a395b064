/* The op table: one descriptor per op, read by the tests, the benchmark harness (kl_bench), the
 * Massif driver (kl_workload), the lessons and, through bench.json, the reports.
 *
 * A descriptor says everything a driver needs to run an op without knowing it:
 *   - its dims and their names (d[0..ndims), e.g. m n k), and the shapes kl_bench runs;
 *   - its buffers: name, role, extent in dims, how each is filled;
 *   - its scalar parameters with their default values (alpha, beta, eps);
 *   - the flops and the bytes one call must move (the roofline's two axes);
 *   - the call, through the checked kl_*_run entry point;
 *   - the check against the float64 oracle (kernels/reference/) and its error bound in words;
 *   - the BLIS baseline kl_bench times beside the variants.
 * Drivers hold a kl_op_args (the dims, the parameters and the buffers) and pass it around.
 *
 * Internal: built into the static library kernellab_ops (with the reference, without BLIS) and
 * kernellab_ops_blis (the same with the BLIS baselines: harness/ only). Not installed.
 *
 * Adding an op: write its descriptor kl_<op>_op in kernels/<op>/<op>_op.c and list that file
 * in kl_op_sources in kernels/<op>/meson.build; the table picks it up from KL_OPS in
 * kernellab.h (README.md, "Adding an op", lists every file). */
#ifndef KL_OPS_H
#define KL_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernellab.h"

#ifdef __cplusplus
extern "C" {
#endif

#define KL_OP_MAX_DIMS 3
#define KL_OP_MAX_BUFS 8
#define KL_OP_MAX_PARAMS 4

typedef enum kl_buf_role {
    KL_BUF_IN,     /* read only */
    KL_BUF_INOUT,  /* read and written (matmul's C with beta != 0): its initial value is kept */
    KL_BUF_OUT,    /* written, never read: filled with NaN, so an element left unwritten fails */
} kl_buf_role;

/* One buffer of an op: extent rows x cols, each an index into d[] (KL_DIM_ONE: 1). */
#define KL_DIM_ONE (-1)
typedef struct kl_op_buf {
    const char *name;      /* as in the op's signature: "A", "x", "gamma" */
    kl_buf_role role;
    signed char rows, cols;
    float lo, hi;          /* IN and INOUT: uniform in [lo, hi) from the buffer's own seed */
    unsigned flags;        /* KL_BUF_* below */
} kl_op_buf;

#define KL_BUF_STRIDED 1u    /* rows are ld = cols + args.pad apart (matmul's A, B, C) */
#define KL_BUF_OPTIONAL 2u   /* the call accepts NULL here (bias, mean, rstd) */
#define KL_BUF_BASELINE 4u   /* only the BLIS baseline uses it: allocated with KL_ARGS_BASELINE */

typedef struct kl_op_param {
    const char *name;      /* "alpha", "beta", "eps" */
    float value;           /* what kl_bench, kl_workload and the lessons use */
} kl_op_param;

/* One call's arguments. kl_op_args_alloc fills it from a descriptor; buf[i] is what the call
 * sees (a driver may set an OPTIONAL one to NULL, or plant a NaN), owned[i] what is freed. */
typedef struct kl_op_args {
    const struct kl_op_desc *op;
    ptrdiff_t d[KL_OP_MAX_DIMS];         /* unused dims are 0 */
    float p[KL_OP_MAX_PARAMS];           /* parameters, in the descriptor's order */
    ptrdiff_t pad;                       /* extra floats per row of STRIDED buffers */
    float *buf[KL_OP_MAX_BUFS];
    ptrdiff_t ld[KL_OP_MAX_BUFS];        /* row stride in floats */
    float *initial[KL_OP_MAX_BUFS];      /* INOUT: a copy before the call (NULL without) */
    void *owned[2 * KL_OP_MAX_BUFS];
} kl_op_args;

typedef struct kl_op_desc {
    kl_op op;
    const char *name;                    /* kl_op_name(op) */
    const char *summary;                 /* the op in one line, e.g. "C = alpha A.B + beta C" */
    int ndims;
    const char *dim_names[KL_OP_MAX_DIMS];
    int nbufs;
    kl_op_buf bufs[KL_OP_MAX_BUFS];
    int nparams;
    kl_op_param params[KL_OP_MAX_PARAMS];

    /* The work of one call: floating-point operations, and the bytes it must move at least
     * (each input read once, each output written once). kl_bench writes both into bench.json
     * per benchmark; the reports read them from there. */
    double (*flops)(const ptrdiff_t *d);
    double (*bytes)(const ptrdiff_t *d);
    const char *rate;                    /* the figure kl_bench reports: "GFLOPS" or "GBps" */

    /* One checked call of v (kl_*_run: bad arguments come back as a status). */
    kl_status (*call)(const kl_variant *v, const kl_op_args *a);
    /* The float64 oracle: worst error as a fraction of the bound (<= 1 passes; INFINITY for a
     * NaN/Inf mismatch), *where the flat index of the worst element. sample != 0 may check a
     * subset (whole rows, enough to catch every tile position) when the oracle would be slow. */
    double (*check)(const kl_op_args *a, int sample, ptrdiff_t *where);
    const char *bound;                   /* the error bound, in words */

    /* kl_bench: the shapes it runs (quick: the small set), and the variants it leaves out at
     * a shape (NULL: none). Writes at most cap shapes; returns how many there are. */
    size_t (*bench_shapes)(int quick, ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap);
    int (*bench_skips)(const kl_variant *v, const ptrdiff_t *d);
    /* Bytes named by the "ws" field of a benchmark name (the cache level the data fits in);
     * NULL: no ws field. */
    double (*working_set)(const ptrdiff_t *d);

    /* The BLIS baseline: its benchmark name ("blis", "blis_copyv", ...), what it does, and
     * the call, on rows [lo, hi) of d[0] (NULL in kernellab_ops, which has no BLIS). With
     * blis_threads_itself, BLIS runs its own team on the whole call (lo = 0, hi = d[0]);
     * otherwise the caller splits d[0] across threads. */
    const char *blis_name;
    const char *blis_what;
    void (*blis)(const kl_op_args *a, ptrdiff_t lo, ptrdiff_t hi);
    int blis_threads_itself;
    /* How to check the baseline when it is not the op itself (relu's copy): NULL uses check. */
    double (*blis_check)(const kl_op_args *a, ptrdiff_t *where);
    /* The copy roof of a memory-bound op: kl_bench times memcpy of buffer copy_roof[0] into
     * copy_roof[1] (same bytes, rows of d[0] split across threads) as "memcpy", the bandwidth
     * its course target is measured against. {NULL, NULL}: none. */
    const char *copy_roof[2];
    /* The smallest valid value of each dim (0 when unset: an empty call is a no-op). A call
     * below it is KL_EINVAL by the op's contract (softmax_xent: rows need a class). */
    ptrdiff_t min_dims[KL_OP_MAX_DIMS];
} kl_op_desc;

/* ---- the table ---------------------------------------------------------------------- */

const kl_op_desc *kl_op_desc_of(kl_op op);           /* NULL past KL_OP_COUNT */
const kl_op_desc *kl_op_desc_named(const char *name); /* NULL if none */
/* The index of a named buffer or parameter in a descriptor, or -1. */
int kl_op_buf_index(const kl_op_desc *op, const char *name);
int kl_op_param_index(const kl_op_desc *op, const char *name);

/* ---- arguments ---------------------------------------------------------------------- */

#define KL_ARGS_NO_INITIAL 1u  /* skip the INOUT copies (Massif: only what the call needs) */
#define KL_ARGS_BASELINE 2u    /* also allocate the BASELINE buffers */

/* Allocates and fills every buffer for dims d (64-byte aligned; contents from `seed`), with
 * the descriptor's parameters. Returns KL_EINVAL for a negative or overflowing dim, KL_ENOMEM
 * (everything freed) when memory runs out. Free with kl_op_args_free, even after a failure. */
kl_status kl_op_args_alloc(const kl_op_desc *op, const ptrdiff_t *d, ptrdiff_t pad,
                           uint64_t seed, unsigned flags, kl_op_args *a);
void kl_op_args_free(kl_op_args *a);
/* Floats in buffer i (rows x ld), and the sum in bytes over the buffers allocated with flags. */
size_t kl_op_buf_floats(const kl_op_args *a, int i);
size_t kl_op_args_bytes(const kl_op_desc *op, const ptrdiff_t *d, unsigned flags);
/* Refill buffer i's elements uniform in [lo, hi) (padding untouched); restores its INOUT copy. */
void kl_op_fill(kl_op_args *a, int i, uint64_t seed, float lo, float hi);
/* Copies the INOUT buffers back from their initial values (before a repeated call). */
void kl_op_args_reset(kl_op_args *a);

/* Bench shapes for a streaming op of one dim n moving bytes_per_n bytes per element: n so that
 * its data fill half of L2, half of L3, and 4x L3 (at least 64 MiB: DRAM); quick: {small, the
 * L2 one}, or the L2 one alone when small is 0. For bench_shapes; returns the count. */
size_t kl_op_stream_shapes(int quick, double bytes_per_n, ptrdiff_t small,
                           ptrdiff_t (*shapes)[KL_OP_MAX_DIMS], size_t cap);

/* A sampled check of a GEMM-like op whose row i of the output depends only on row i of the
 * inputs (matmul, linear_relu): check_row(a, i, where) is each row's float64 check. With sample
 * and more than 2^27 multiply-adds (rows x madds_per_row) it checks the first and last 8 rows and
 * rows `step` apart, ~2^26 multiply-adds in all, step prime to 2, 3 and 7 so the rows land on
 * every row of a 4-, 6-, 12- or 14-row register tile; else every row. Worst ratio; *where the
 * flat index (row i * ld_out + column). */
double kl_op_check_rows(const kl_op_args *a, int sample, ptrdiff_t rows, double madds_per_row,
                        ptrdiff_t ld_out,
                        double (*check_row)(const kl_op_args *a, ptrdiff_t i, ptrdiff_t *where),
                        ptrdiff_t *where);

/* The GEMM-shaped ops (matmul, matmul_t; d = m, n, k): 2 m n k flops; A and B read once, C
 * written once (beta = 0, the benchmark's call, does not read it). */
double kl_op_gemm_flops(const ptrdiff_t *d);
double kl_op_gemm_bytes(const ptrdiff_t *d);
#ifdef KL_OPS_BLIS
/* Their BLIS baseline: bli_sgemm on buffers 0, 1, 2 (A, B, C), row-major (row stride = leading
 * dimension, column stride 1); A stored k x m and transposed when trans_a. */
void kl_op_blis_gemm(const kl_op_args *a, int trans_a);
#endif

/* Convenience: a->op->call(v, a), and a->op->check(a, sample, where). */
kl_status kl_op_call(const kl_variant *v, const kl_op_args *a);
double kl_op_check(const kl_op_args *a, int sample, ptrdiff_t *where);

#ifdef __cplusplus
}
#endif
#endif
