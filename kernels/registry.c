/* The registry: one row per (op, variant), in ladder order (naive first). Tests, benchmarks,
 * the Massif driver and reports all iterate this table, so a new variant is one file under
 * kernels/<op>/, one line in that folder's meson.build, and one row here.
 * kl_matmul() and friends run the LAST available row of their op: keep the fastest last.
 * A rung that dispatches (runs the best ISA its op's dispatch table chose) names that table's
 * ISA function in `runs`; isa is then what the CPU must have at least. */
#include "add/add.h"
#include "layernorm/layernorm.h"
#include "linear_relu/linear_relu.h"
#include "matmul/matmul.h"
#include "relu/relu.h"
#include "matmul_t/matmul_t.h"
#include "relu_backward/relu_backward.h"
#include "layernorm_backward/layernorm_backward.h"
#include "bias_backward/bias_backward.h"
#include "softmax_xent/softmax_xent.h"
#include "sgd_momentum/sgd_momentum.h"

#include <string.h>

/* scratch: kl_scratch_fn or NULL; blocking: kl_blocking_fn or NULL (see kernellab.h);
 * runs: NULL, or the op's dispatched ISA for a rung that dispatches. */
#define ROW(op, dir, member, name, rung, isa, threaded, file, fn, scratch, blocking, runs) \
    {op, name, rung, isa, threaded, "kernels/" dir "/" file, scratch, blocking, {.member = fn}, runs}
#define MATMUL(...) ROW(KL_OP_MATMUL, "matmul", matmul, __VA_ARGS__)
#define RELU(...) ROW(KL_OP_RELU, "relu", relu, __VA_ARGS__)
#define LAYERNORM(...) ROW(KL_OP_LAYERNORM, "layernorm", layernorm, __VA_ARGS__)
#define LINEAR_RELU(...) ROW(KL_OP_LINEAR_RELU, "linear_relu", linear_relu, __VA_ARGS__)
#define ADD(...) ROW(KL_OP_ADD, "add", add, __VA_ARGS__)

/* Training ops: the ladder naive -> simd -> openmp, each file under kernels/<op>/. */
#define MATMUL_T(...) ROW(KL_OP_MATMUL_T, "matmul_t", matmul_t, __VA_ARGS__)
#define RELU_BACKWARD(...) ROW(KL_OP_RELU_BACKWARD, "relu_backward", relu_backward, __VA_ARGS__)
#define LAYERNORM_BACKWARD(...) \
    ROW(KL_OP_LAYERNORM_BACKWARD, "layernorm_backward", layernorm_backward, __VA_ARGS__)
#define BIAS_BACKWARD(...) ROW(KL_OP_BIAS_BACKWARD, "bias_backward", bias_backward, __VA_ARGS__)
#define SOFTMAX_XENT(...) ROW(KL_OP_SOFTMAX_XENT, "softmax_xent", softmax_xent, __VA_ARGS__)
#define SGD_MOMENTUM(...) ROW(KL_OP_SGD_MOMENTUM, "sgd_momentum", sgd_momentum, __VA_ARGS__)

#ifdef KL_HAVE_OPENMP
#define KL_OMP 1
#else
#define KL_OMP 0
#endif

static const kl_variant variants[] = {
    /*        name          rung        isa             thr  file          function            scratch blocking runs */
    MATMUL(   "naive",      "naive",    KL_ISA_SCALAR,  0,   "naive.c",    kl_matmul_naive,    NULL,   NULL, NULL),
    MATMUL(   "interchange", "interchange", KL_ISA_SCALAR, 0, "interchange.c", kl_matmul_interchange, NULL, NULL, NULL),
    MATMUL(   "blocked",    "blocked",  KL_ISA_SCALAR,  0,   "blocked.c",  kl_matmul_blocked,  NULL,   kl_matmul_blocked_blocking, NULL),
    MATMUL(   "packed",     "packed",   KL_ISA_SCALAR,  0,   "packed.c",   kl_matmul_packed,   kl_matmul_packed_scratch, kl_matmul_packed_blocking, NULL),
#ifdef KL_HAVE_SIMD
    MATMUL(   "avx2",       "simd",     KL_ISA_AVX2,    0,   "packed_avx2.c", kl_matmul_avx2,  kl_matmul_avx2_scratch,   kl_matmul_avx2_blocking, NULL),
    MATMUL(   "avx512",     "simd",     KL_ISA_AVX512,  0,   "packed_avx512.c", kl_matmul_avx512, kl_matmul_avx512_scratch, kl_matmul_avx512_blocking, NULL),
#ifdef KL_HAVE_OPENMP
    MATMUL(   "openmp",     "openmp",   KL_ISA_AVX2,    1,   "openmp.c",   kl_matmul_openmp,   kl_matmul_openmp_scratch, kl_matmul_openmp_blocking, kl_matmul_dispatch_isa),
#endif
#endif

    RELU(     "naive",      "naive",    KL_ISA_SCALAR,  0,   "naive.c",    kl_relu_naive,      NULL,   NULL, NULL),
    RELU(     "blocked",    "blocked",  KL_ISA_SCALAR,  0,   "blocked.c",  kl_relu_blocked,    NULL,   kl_relu_blocked_blocking, NULL),
#ifdef KL_HAVE_SIMD
    RELU(     "avx2",       "simd",     KL_ISA_AVX2,    0,   "avx2.c",     kl_relu_avx2,       NULL,   NULL, NULL),
    RELU(     "avx512",     "simd",     KL_ISA_AVX512,  0,   "avx512.c",   kl_relu_avx512,     NULL,   NULL, NULL),
#endif
#ifdef KL_HAVE_OPENMP
    RELU(     "openmp",     "openmp",   KL_ISA_SCALAR,  1,   "openmp.c",   kl_relu_openmp,     NULL,   NULL, kl_relu_dispatch_isa),
#endif

    LAYERNORM("naive",      "naive",    KL_ISA_SCALAR,  0,   "naive.c",    kl_layernorm_naive, NULL,   NULL, NULL),
    LAYERNORM("welford",    "welford",  KL_ISA_SCALAR,  0,   "welford.c",  kl_layernorm_welford, NULL, NULL, NULL),
    LAYERNORM("blocked",    "blocked",  KL_ISA_SCALAR,  0,   "blocked.c",  kl_layernorm_blocked, NULL, kl_layernorm_blocked_blocking, NULL),
#ifdef KL_HAVE_SIMD
    LAYERNORM("avx2",       "simd",     KL_ISA_AVX2,    0,   "avx2.c",     kl_layernorm_avx2,  NULL,   kl_layernorm_blocked_blocking, NULL),
    LAYERNORM("avx512",     "simd",     KL_ISA_AVX512,  0,   "avx512.c",   kl_layernorm_avx512, NULL,  kl_layernorm_blocked_blocking, NULL),
#endif
#ifdef KL_HAVE_OPENMP
    LAYERNORM("openmp",     "openmp",   KL_ISA_SCALAR,  1,   "openmp.c",   kl_layernorm_openmp, NULL,  kl_layernorm_blocked_blocking, kl_layernorm_dispatch_isa),
#endif

    /* unfused calls the best matmul (threaded when that is openmp); fused rides the openmp
     * rung's packed driver, threaded when built with OpenMP. */
    LINEAR_RELU("unfused",  "unfused",  KL_ISA_SCALAR,  KL_OMP, "unfused.c", kl_linear_relu_unfused, kl_linear_relu_unfused_scratch, kl_linear_relu_unfused_blocking, kl_linear_relu_unfused_isa),
#ifdef KL_HAVE_SIMD
    LINEAR_RELU("fused",    "fused",    KL_ISA_AVX2,    KL_OMP, "fused.c",   kl_linear_relu_fused, kl_linear_relu_fused_scratch, kl_linear_relu_fused_blocking, kl_matmul_dispatch_isa),
#endif

    ADD(      "naive",      "naive",    KL_ISA_SCALAR,  0,   "naive.c",    kl_add_naive,       NULL,   NULL, NULL),

    /* The simd and openmp matmul_t rungs run the forward packed driver (kernels/matmul/gemm.c):
     * the same tile edges as the forward rungs with the same micro-kernel. */
    MATMUL_T(      "naive",  "naive",  KL_ISA_SCALAR, 0, "naive.c",  kl_matmul_t_naive,  NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    MATMUL_T(      "avx2",   "simd",   KL_ISA_AVX2,   0, "packed.c", kl_matmul_t_avx2,   kl_matmul_t_avx2_scratch, kl_matmul_avx2_blocking, NULL),
    MATMUL_T(      "avx512", "simd",   KL_ISA_AVX512, 0, "packed.c", kl_matmul_t_avx512, kl_matmul_t_avx512_scratch, kl_matmul_avx512_blocking, NULL),
    MATMUL_T(      "openmp", "openmp", KL_ISA_AVX2,   KL_OMP, "packed.c", kl_matmul_t_openmp, kl_matmul_t_openmp_scratch, kl_matmul_openmp_blocking, NULL),
#endif
    RELU_BACKWARD( "naive",  "naive",  KL_ISA_SCALAR, 0, "naive.c",  kl_relu_backward_naive, NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    RELU_BACKWARD( "avx2",   "simd",   KL_ISA_AVX2,   0, "avx2.c",   kl_relu_backward_avx2,  NULL, NULL, NULL),
    RELU_BACKWARD( "avx512", "simd",   KL_ISA_AVX512, 0, "avx512.c", kl_relu_backward_avx512, NULL, NULL, NULL),
#endif
    RELU_BACKWARD( "openmp", "openmp", KL_ISA_SCALAR, KL_OMP, "openmp.c", kl_relu_backward_openmp, NULL, NULL, NULL),
    LAYERNORM_BACKWARD("naive", "naive", KL_ISA_SCALAR, 0, "naive.c", kl_layernorm_backward_naive, NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    LAYERNORM_BACKWARD("avx2", "simd",  KL_ISA_AVX2,   0, "avx2.c",   kl_layernorm_backward_avx2, NULL, NULL, NULL),
    LAYERNORM_BACKWARD("openmp", "openmp", KL_ISA_AVX2, KL_OMP, "openmp.c", kl_layernorm_backward_openmp, kl_layernorm_backward_openmp_scratch, NULL, NULL),
#endif
    BIAS_BACKWARD( "naive",  "naive",  KL_ISA_SCALAR, 0, "naive.c",  kl_bias_backward_naive, NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    BIAS_BACKWARD( "avx2",   "simd",   KL_ISA_AVX2,   0, "avx2.c",   kl_bias_backward_avx2,  NULL, NULL, NULL),
    BIAS_BACKWARD( "openmp", "openmp", KL_ISA_AVX2,   KL_OMP, "openmp.c", kl_bias_backward_openmp, NULL, NULL, NULL),
#endif
    SOFTMAX_XENT(  "naive",  "naive",  KL_ISA_SCALAR, 0, "naive.c",  kl_softmax_xent_naive, NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    SOFTMAX_XENT(  "avx2",   "simd",   KL_ISA_AVX2,   0, "avx2.c",   kl_softmax_xent_avx2,  NULL, NULL, NULL),
    SOFTMAX_XENT(  "openmp", "openmp", KL_ISA_AVX2,   KL_OMP, "openmp.c", kl_softmax_xent_openmp, NULL, NULL, NULL),
#endif
    SGD_MOMENTUM(  "naive",  "naive",  KL_ISA_SCALAR, 0, "naive.c",  kl_sgd_momentum_naive, NULL, NULL, NULL),
#ifdef KL_HAVE_SIMD
    SGD_MOMENTUM(  "avx2",   "simd",   KL_ISA_AVX2,   0, "avx2.c",   kl_sgd_momentum_avx2,  NULL, NULL, NULL),
    SGD_MOMENTUM(  "openmp", "openmp", KL_ISA_AVX2,   KL_OMP, "openmp.c", kl_sgd_momentum_openmp, NULL, NULL, NULL),
#endif
};

size_t kl_variant_count(void) { return sizeof variants / sizeof variants[0]; }

const kl_variant *kl_variant_at(size_t i) { return i < kl_variant_count() ? &variants[i] : NULL; }

const kl_variant *kl_variant_find(kl_op op, const char *name) {
    for (size_t i = 0; name && i < kl_variant_count(); i++)
        if (variants[i].op == op && strcmp(variants[i].name, name) == 0) return &variants[i];
    return NULL;
}

kl_isa kl_variant_isa(const kl_variant *v) {
    if (!v) return KL_ISA_SCALAR;
    kl_isa runs = v->dispatched_isa && kl_variant_available(v) ? v->dispatched_isa() : v->isa;
    return runs > v->isa ? runs : v->isa;
}

int kl_variant_available(const kl_variant *v) {
    return v && v->fn.matmul && v->isa <= kl_cpu_isa();
}

const kl_variant *kl_best_variant(kl_op op) {
    const kl_variant *best = NULL;
    for (size_t i = 0; i < kl_variant_count(); i++)
        if (variants[i].op == op && kl_variant_available(&variants[i])) best = &variants[i];
    return best;
}

size_t kl_variant_names(kl_op op, const char **names, size_t cap) {
    size_t count = 0;
    for (size_t i = 0; i < kl_variant_count(); i++) {
        if (variants[i].op != op || !kl_variant_available(&variants[i])) continue;
        if (names && count < cap) names[count] = variants[i].name;
        count++;
    }
    return count;
}

const char *kl_op_name(kl_op op) {
#define KL_OP_NAME_(id, name) [KL_OP_##id] = #name,
    static const char *const names[KL_OP_COUNT] = {KL_OPS(KL_OP_NAME_)};
#undef KL_OP_NAME_
    return (unsigned)op < KL_OP_COUNT ? names[op] : "unknown";
}
