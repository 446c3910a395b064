/* kernellab — the whole public API.
 *
 * Every op is float32, row-major, with explicit leading dimensions.
 *   matmul:    C[m][n] = alpha * A[m][k] . B[k][n] + beta * C[m][n]   (as bli_sgemm, no transpose)
 *   relu:      y[n] = max(x[n], 0)                                     (y may be x)
 *   layernorm: y[r][c] = (x[r][c] - mean_r) * rstd_r * gamma[c] + beta[c],
 *              rstd_r = 1 / sqrt(var_r + eps), var is the biased (1/cols) variance;
 *              mean[rows], rstd[rows] are written when non-NULL (for a backward pass).
 *   linear_relu: C[m][n] = relu(A[m][k] . B[k][n] + bias[n])  (a dense layer; bias may be NULL:
 *              no bias; C is output only, never read, and must not overlap A, B or bias)
 *   add:       z[n] = x[n] + y[n]                                     (a residual connection;
 *              z may be x or y, exactly; no other overlap)
 *
 * Every entry point returns a kl_status; none aborts, exits or prints. Bad input
 * returns KL_EINVAL and writes nothing. Zero sizes are valid no-ops: when m = 0 or n = 0
 * (matmul, linear_relu), n = 0 (relu) or rows = 0 or cols = 0 (layernorm) a call checks its
 * sizes, leading dimensions and scalars, returns KL_OK and reads no pointer (NULL is fine), as
 * BLAS's quick return does.
 *
 * Numerical rules (tested in tests/):
 *   matmul:    beta == 0 means C is not read (NaN in C does not propagate);
 *              alpha == 0 or k == 0 means A and B are not read: C = beta*C.
 *   relu:      NaN in gives NaN out; -Inf gives 0; the sign of a zero result is unspecified.
 *   linear_relu: as relu on the pre-activation (a NaN in row i of A, column j of B or bias[j]
 *              gives NaN there); k == 0 gives C = relu(bias), or 0 without bias.
 *   add:       exact (IEEE float addition, round to nearest): z == x + y as floats.
 *   layernorm: a NaN or Inf anywhere in a row makes that row's outputs NaN; other rows are unaffected.
 *              eps must be finite and > 0 (KL_EINVAL otherwise): with eps = 0 a constant row
 *              would divide 0 by 0.
 *
 * Training ops (the backward passes of the ops above, the loss and an optimizer step):
 *   matmul_t:  C[m][n] = alpha * op(A) . op(B) + beta * C, op(A) = A[m][k] (lda >= k), or with
 *              trans_a, A stored k x m (lda >= m) and transposed; likewise op(B) = B[k][n] or,
 *              with trans_b, B stored n x k (ldb >= k). dA = dC.Bt and dB = At.dC. Same rules
 *              as matmul (beta == 0: C not read; alpha == 0 or k == 0: A, B not read).
 *   relu_backward: dx[i] = dy[i] where y[i] > 0, else 0; y is relu's output (or its input:
 *              the same sign). A NaN in y gives NaN; a NaN in dy reaches dx only where y > 0.
 *              dx may be dy or y (exactly), not overlap them otherwise.
 *   layernorm_backward: from layernorm's x, gamma and saved mean, rstd, and dy = dL/dy:
 *              xhat = (x - mean) rstd, dx = rstd (gamma dy - mean_c(gamma dy) - xhat mean_c(gamma dy xhat)),
 *              dgamma[c] = sum_r dy xhat, dbeta[c] = sum_r dy (overwritten; each may be NULL: skipped).
 *              A NaN in row r of x or dy, or in mean[r] or rstd[r], makes row r of dx NaN (other
 *              rows unaffected), and dgamma/dbeta NaN in the columns where it meets them.
 *              dx may be dy (exactly). Threaded variants sum dgamma, dbeta per thread, then in
 *              thread order: deterministic for a fixed thread count.
 *   bias_backward: db[c] = sum_r dy[r][c] (ld ldy), rows summed in order: NaN in column c gives
 *              db[c] NaN. rows == 0 gives db = 0.
 *   softmax_xent: loss = mean_r (logsumexp(z_r) - z_r[label_r]) over logits z[rows][cols], and
 *              when dlogits is not NULL, dlogits = (softmax(z_r) - onehot(label_r)) / rows.
 *              A label outside [0, cols) is KL_EINVAL (nothing written). A NaN or +Inf in row r
 *              makes that row of dlogits NaN and the loss NaN. rows == 0: loss = 0.
 *   sgd_momentum: PyTorch's SGD with momentum (no dampening, no Nesterov), v starting at 0:
 *              d = g + weight_decay w; v = momentum v + d; w = w - lr v. A NaN stays in its
 *              element (of w and v). w, g, v must not overlap; lr, momentum, weight_decay finite.
 */
#ifndef KERNELLAB_H
#define KERNELLAB_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum kl_status {
    KL_OK = 0,
    KL_EINVAL,        /* bad argument: NULL, negative/overflowing size, ld < row, bad alias, bad eps */
    KL_ENOMEM,        /* scratch allocation failed */
    KL_EUNSUPPORTED,  /* variant not available on this CPU/build, or not implemented yet */
    KL_ENOTFOUND,     /* no variant of that name for this op */
    KL_ETHREADS,      /* the threads asked for could not be started (nothing else changed) */
} kl_status;

const char *kl_status_str(kl_status s);

/* Student stubs (the bodies scripts/release leaves to write) call kl_not_implemented with
 * "file: function()" and return KL_EUNSUPPORTED (or nothing, or zero, if the function returns
 * that). A helper that cannot return a status still leaves its mark, so a caller that returned
 * KL_OK over a stubbed helper is caught too: lessons reset the mark, call a rung, and name the
 * file to edit. Thread-safe; the mark is the first stub reached since the reset, or NULL. */
kl_status kl_not_implemented(const char *where);
const char *kl_stub_reached(void);
void kl_stub_reset(void);

/* ---- ops, with the best available variant ------------------------------------------ */

kl_status kl_matmul(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                    ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                    ptrdiff_t ldc);
kl_status kl_relu(ptrdiff_t n, const float *x, float *y);
kl_status kl_add(ptrdiff_t n, const float *x, const float *y, float *z);
kl_status kl_layernorm(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                       const float *beta, float eps, float *y, float *mean, float *rstd);
kl_status kl_linear_relu(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A, ptrdiff_t lda,
                         const float *B, ptrdiff_t ldb, const float *bias, float *C,
                         ptrdiff_t ldc);

kl_status kl_matmul_t(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                      const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                      float *C, ptrdiff_t ldc);
kl_status kl_relu_backward(ptrdiff_t n, const float *y, const float *dy, float *dx);
kl_status kl_layernorm_backward(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *gamma,
                                const float *mean, const float *rstd, const float *dy, float *dx,
                                float *dgamma, float *dbeta);
kl_status kl_bias_backward(ptrdiff_t rows, ptrdiff_t cols, const float *dy, ptrdiff_t ldy,
                           float *db);
kl_status kl_softmax_xent(ptrdiff_t rows, ptrdiff_t cols, const float *logits, const int *labels,
                          float *loss, float *dlogits);
kl_status kl_sgd_momentum(ptrdiff_t n, float lr, float momentum, float weight_decay, float *w,
                          const float *g, float *v);

/* ---- the same ops with a named variant ("naive", "blocked", ...) ------------------ */

kl_status kl_matmul_variant(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                            float alpha, const float *A, ptrdiff_t lda, const float *B,
                            ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc);
kl_status kl_relu_variant(const char *variant, ptrdiff_t n, const float *x, float *y);
kl_status kl_add_variant(const char *variant, ptrdiff_t n, const float *x, const float *y, float *z);
kl_status kl_layernorm_variant(const char *variant, ptrdiff_t rows, ptrdiff_t cols,
                               const float *x, const float *gamma, const float *beta, float eps,
                               float *y, float *mean, float *rstd);
kl_status kl_linear_relu_variant(const char *variant, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                                 const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                 const float *bias, float *C, ptrdiff_t ldc);

/* ---- the registry: one table of every (op, variant) -------------------------------- */

/* Every op, once: X(ENUM_SUFFIX, name). A new op is one line here (and its signature below). */
#define KL_OPS(X)                                                                            \
    X(MATMUL, matmul)                                                                        \
    X(RELU, relu)                                                                            \
    X(LAYERNORM, layernorm)                                                                  \
    X(LINEAR_RELU, linear_relu)                                                              \
    X(ADD, add)                                                                              \
    X(MATMUL_T, matmul_t)                                                                    \
    X(RELU_BACKWARD, relu_backward)                                                          \
    X(LAYERNORM_BACKWARD, layernorm_backward)                                                \
    X(BIAS_BACKWARD, bias_backward)                                                          \
    X(SOFTMAX_XENT, softmax_xent)                                                            \
    X(SGD_MOMENTUM, sgd_momentum)

typedef enum kl_op {
#define KL_OP_ENUM_(id, name) KL_OP_##id,
    KL_OPS(KL_OP_ENUM_)
#undef KL_OP_ENUM_
    KL_OP_COUNT
} kl_op;

/* Instruction sets, ordered: a CPU that has one has every one before it. */
typedef enum kl_isa { KL_ISA_SCALAR, KL_ISA_AVX2, KL_ISA_AVX512, KL_ISA_COUNT } kl_isa;

typedef kl_status (*kl_matmul_fn)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                                  const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                  float beta, float *C, ptrdiff_t ldc);
typedef kl_status (*kl_relu_fn)(ptrdiff_t n, const float *x, float *y);
typedef kl_status (*kl_add_fn)(ptrdiff_t n, const float *x, const float *y, float *z);
typedef kl_status (*kl_layernorm_fn)(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                     const float *gamma, const float *beta, float eps, float *y,
                                     float *mean, float *rstd);
typedef kl_status (*kl_linear_relu_fn)(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, const float *A,
                                       ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                                       const float *bias, float *C, ptrdiff_t ldc);
typedef kl_status (*kl_matmul_t_fn)(int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n,
                                    ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda,
                                    const float *B, ptrdiff_t ldb, float beta, float *C,
                                    ptrdiff_t ldc);
typedef kl_status (*kl_relu_backward_fn)(ptrdiff_t n, const float *y, const float *dy, float *dx);
typedef kl_status (*kl_layernorm_backward_fn)(ptrdiff_t rows, ptrdiff_t cols, const float *x,
                                              const float *gamma, const float *mean,
                                              const float *rstd, const float *dy, float *dx,
                                              float *dgamma, float *dbeta);
typedef kl_status (*kl_bias_backward_fn)(ptrdiff_t rows, ptrdiff_t cols, const float *dy,
                                         ptrdiff_t ldy, float *db);
typedef kl_status (*kl_softmax_xent_fn)(ptrdiff_t rows, ptrdiff_t cols, const float *logits,
                                        const int *labels, float *loss, float *dlogits);
typedef kl_status (*kl_sgd_momentum_fn)(ptrdiff_t n, float lr, float momentum, float weight_decay,
                                        float *w, const float *g, float *v);

/* Heap bytes a call allocates for scratch (packing buffers), at most; NULL means none.
 * Sizes are (m, n, k) for matmul, matmul_t (no transpose; the same for any) and linear_relu,
 * (n, 0, 0) for relu, relu_backward and sgd_momentum, (rows, cols, 0) for layernorm,
 * layernorm_backward, bias_backward and softmax_xent. */
typedef size_t (*kl_scratch_fn)(ptrdiff_t d0, ptrdiff_t d1, ptrdiff_t d2, int threads);

/* The tile edges a variant uses (MR, NR, MC, KC, NC, strip length, ...), as chosen at run time
 * from the cache sizes. Writes at most cap; returns how many there are. Tests sweep every
 * dimension to +-1 around each. NULL means the variant does not tile. */
typedef size_t (*kl_blocking_fn)(ptrdiff_t *sizes, size_t cap);

typedef struct kl_variant {
    kl_op op;
    const char *name;       /* unique within the op: "naive", "blocked", ... */
    const char *rung;       /* the ladder step: naive, interchange, blocked, packed, simd, openmp, ... */
    kl_isa isa;             /* the instruction set the CPU must have (kl_variant_isa: what it runs) */
    int threaded;           /* 1 if it honours kl_set_num_threads() */
    const char *source;     /* where it lives, e.g. "kernels/matmul/naive.c" */
    kl_scratch_fn scratch_bytes;   /* NULL: allocates nothing */
    kl_blocking_fn blocking;       /* NULL: no tiles */
    union {
        kl_matmul_fn matmul;
        kl_relu_fn relu;
        kl_layernorm_fn layernorm;
        kl_linear_relu_fn linear_relu;
        kl_matmul_t_fn matmul_t;
        kl_relu_backward_fn relu_backward;
        kl_layernorm_backward_fn layernorm_backward;
        kl_bias_backward_fn bias_backward;
        kl_softmax_xent_fn softmax_xent;
        kl_sgd_momentum_fn sgd_momentum;
        kl_add_fn add;
    } fn;                   /* raw kernel: arguments NOT checked; call through kl_*_run */
    /* NULL: the rung runs `isa`. Else it dispatches (the openmp rungs, linear_relu): the
     * instruction set its op's dispatch table chose on this CPU, at least `isa`. */
    kl_isa (*dispatched_isa)(void);
} kl_variant;

size_t kl_variant_count(void);                 /* every registered variant, available or not */
const kl_variant *kl_variant_at(size_t i);     /* NULL past the end */
const kl_variant *kl_variant_find(kl_op op, const char *name); /* NULL if none */
int kl_variant_available(const kl_variant *v); /* 1 if this CPU and build can run it */
/* The instruction set v runs on this CPU: its isa, or what its op's dispatch chose
 * (kl_cpu_isa(), capped by KL_ISA, decides). */
kl_isa kl_variant_isa(const kl_variant *v);
const kl_variant *kl_best_variant(kl_op op);   /* what kl_matmul etc. run */
/* Names of the available variants of op, in ladder order. Writes at most cap; returns how many exist. */
size_t kl_variant_names(kl_op op, const char **names, size_t cap);
const char *kl_op_name(kl_op op); /* the name in KL_OPS: "matmul", "relu", ... */
const char *kl_isa_name(kl_isa isa);           /* "scalar", "avx2", "avx512" */

/* Validated calls through a registry entry (no name lookup: for tight benchmark loops). */
kl_status kl_matmul_run(const kl_variant *v, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha,
                        const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta,
                        float *C, ptrdiff_t ldc);
kl_status kl_relu_run(const kl_variant *v, ptrdiff_t n, const float *x, float *y);
kl_status kl_add_run(const kl_variant *v, ptrdiff_t n, const float *x, const float *y, float *z);
kl_status kl_layernorm_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols, const float *x,
                           const float *gamma, const float *beta, float eps, float *y,
                           float *mean, float *rstd);
kl_status kl_linear_relu_run(const kl_variant *v, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                             const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                             const float *bias, float *C, ptrdiff_t ldc);

kl_status kl_matmul_t_run(const kl_variant *v, int trans_a, int trans_b, ptrdiff_t m, ptrdiff_t n,
                          ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda, const float *B,
                          ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc);
kl_status kl_relu_backward_run(const kl_variant *v, ptrdiff_t n, const float *y, const float *dy,
                               float *dx);
kl_status kl_layernorm_backward_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                                    const float *x, const float *gamma, const float *mean,
                                    const float *rstd, const float *dy, float *dx, float *dgamma,
                                    float *dbeta);
kl_status kl_bias_backward_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                               const float *dy, ptrdiff_t ldy, float *db);
kl_status kl_softmax_xent_run(const kl_variant *v, ptrdiff_t rows, ptrdiff_t cols,
                              const float *logits, const int *labels, float *loss,
                              float *dlogits);
kl_status kl_sgd_momentum_run(const kl_variant *v, ptrdiff_t n, float lr, float momentum,
                              float weight_decay, float *w, const float *g, float *v_buf);

/* ---- the machine -------------------------------------------------------------------- */

/* The best instruction set this CPU and OS support, capped by the environment variable
 * KL_ISA=scalar|avx2|avx512 (to test fallbacks on a bigger machine). */
kl_isa kl_cpu_isa(void);
/* Data cache size in bytes at level 1, 2 or 3 as one core sees it (Linux sysfs, else sysconf,
 * else a safe default); 0 for other levels. kl_cpu_cache_source says which of the three:
 * "sysfs", "sysconf" or "default" ("none" for other levels). */
size_t kl_cpu_cache_bytes(int level);
const char *kl_cpu_cache_source(int level);
/* The same cache's associativity (ways) and line size in bytes (sysfs, else 8/8/16 ways and
 * 64-byte lines); 0 for other levels. The matmul blocking model reads all three. */
int kl_cpu_cache_ways(int level);
int kl_cpu_cache_line(int level);

/* The cache blocking the fastest matmul rung runs here: {MR, NR, MC, KC, NC, A_BCAST} into
 * sizes (at most cap of them); A_BCAST is how many copies of each element of A its packing
 * stores (1, or 4 for the plain-C rung's broadcast packing), so its A block is
 * MC x KC x A_BCAST floats. KL_EINVAL if sizes is NULL with cap > 0. kl_matmul_blocking_source says
 * where it came from: "model" (the analytical model, from the cache geometry above), "tuned"
 * (the file scripts/tune wrote for this CPU) or "environment" (KL_MATMUL_MC/KC/NC/SHAPE).
 * kl_matmul_blocking_detail: the tuned file's path when one is used, else one line on why not
 * (none there, or rejected as malformed or written on another CPU). */
kl_status kl_matmul_blocking(ptrdiff_t *sizes, size_t cap);
const char *kl_matmul_blocking_source(void);
const char *kl_matmul_blocking_detail(void);
/* The bytes the best SIMD rung's direct path (small problems, no packing) measures A and B
 * against (kernels/matmul/gemm.h states the rule): KL_MATMUL_DIRECT_KIB (0 to 2^20 KiB; 0:
 * never direct), else the tuned file's direct_kib (timed on this ISA's rung by scripts/tune),
 * else this CPU's L2. kl_matmul_direct_source says which: "environment", "tuned" or "model". */
size_t kl_matmul_direct_bytes(void);
const char *kl_matmul_direct_source(void);
/* Where scripts/tune writes this CPU's tuned file and the library looks for it:
 * $XDG_CACHE_HOME (else ~/.cache) /kernellab/matmul-<cpu model>.json; "" without either.
 * KL_MATMUL_TUNED=<path> makes the library read that file instead ("none": no file). */
const char *kl_matmul_tuned_path(void);
/* The CPU's model name (/proc/cpuinfo), which a tuned file must match; "unknown" if absent. */
const char *kl_cpu_model(void);

/* ---- threads ----------------------------------------------------------------------- */

/* The most threads a team may have: kl_set_num_threads refuses more, and a default taken from
 * OMP_NUM_THREADS or the core count is capped here. */
#define KL_MAX_THREADS 256

/* Threads for the OpenMP variants: n >= 1 sets it, 0 restores the default (OMP_NUM_THREADS,
 * else every core, at most KL_MAX_THREADS). n < 0 or n > KL_MAX_THREADS returns KL_EINVAL.
 * n > 1 first checks that n threads can be started (the OpenMP runtime would otherwise end the
 * process on its first parallel call): if they cannot, it returns KL_ETHREADS and the setting
 * is unchanged. Single-threaded variants ignore it. */
kl_status kl_set_num_threads(int n);
int kl_get_num_threads(void);

const char *kl_version(void);

#ifdef __cplusplus
}
#endif
#endif /* KERNELLAB_H */
