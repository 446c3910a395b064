/* Block sizes for the packed matmul rungs (Goto/BLIS five loops), from the cache geometry.
 * Shapes: MR x NR register tile; MC x KC packed block of A (L2); KC x NC packed panel of B (L3);
 * KC x NR micro-panel of B and MR x KC micro-panel of A (L1). */
#ifndef KL_MATMUL_BLOCKING_H
#define KL_MATMUL_BLOCKING_H

#include <stddef.h>

typedef struct kl_mm_blocking {
    ptrdiff_t mr, nr;     /* micro-kernel tile, fixed by the kernel's registers */
    ptrdiff_t mc, kc, nc; /* cache blocks: mc % mr == 0, nc % nr == 0, kc % 8 == 0 */
} kl_mm_blocking;

/* One cache level as the model sees it: size, associativity, line (bytes). */
typedef struct kl_mm_cache {
    size_t bytes;
    int ways, line;
} kl_mm_cache;
typedef struct kl_mm_caches {
    kl_mm_cache l1, l2, l3;
} kl_mm_caches;

/* ---- the analytical model (pure: the same geometry always gives the same blocks) ---- */

/* MC, KC, NC for an mr x nr micro-kernel on caches c (blocking.c states the rule). bcast: the
 * copies of each element of A its packing stores (kl_gemm_kernel.a_bcast; 1 for most). */
kl_mm_blocking kl_mm_model(const kl_mm_caches *c, ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast);
/* The model's figure of merit for a blocking: flops per byte the micro-kernel moves through L1
 * (A and B micro-panels every k step, plus the C tile once per KC). Higher is better. */
double kl_mm_model_score(const kl_mm_blocking *b);
/* Index of the best of `count` candidate shapes shapes[i] = {mr, nr} on caches c. */
size_t kl_mm_model_pick(const kl_mm_caches *c, const ptrdiff_t (*shapes)[2], size_t count);

/* ---- what runs on this machine ---- */

/* This machine's geometry (kl_cpu_cache_bytes/ways/line; L3 capped, see blocking.c). */
kl_mm_caches kl_mm_caches_here(void);

/* The blocking for an mr x nr micro-kernel on this machine: the model, replaced by the tuned
 * file when it names this shape, then KL_MATMUL_MC / KL_MATMUL_KC / KL_MATMUL_NC per block.
 * Computed once per (mr, nr, bcast) and cached; safe to call from several threads. */
kl_mm_blocking kl_mm_blocking_for(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast);

/* Which of `count` shapes a rung with several micro-kernels runs: KL_MATMUL_SHAPE ("14x32"),
 * else the tuned file's shape, else kl_mm_model_pick. Always a valid index. */
size_t kl_mm_shape_pick(const ptrdiff_t (*shapes)[2], size_t count);

/* Writes {MR, NR, MC, KC, NC} (at most cap of them) for the registry; returns 5. */
size_t kl_mm_blocking_list(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast, ptrdiff_t *sizes,
                           size_t cap);

/* The micro-kernel of the fastest packed rung here (gemm.c): its shape and A's bcast. */
void kl_gemm_best_shape(ptrdiff_t *mr, ptrdiff_t *nr, ptrdiff_t *bcast);

/* ---- the tuned file (tuned.c) ----
 * A flat JSON object written by scripts/tune:
 *   {"cpu_model": "<model name from /proc/cpuinfo>", "isa": "avx512",
 *    "mr": 14, "nr": 32, "mc": 448, "kc": 256, "nc": 4096, "direct_kib": 1024}
 * direct_kib, optional, is the budget the direct-path rule measures A and B against in place
 * of L2 (kl_matmul_direct_bytes, gemm.h). Parsed strictly: a missing or unknown key, a wrong
 * type or a block that breaks the shape's rules rejects the whole file; so does another CPU
 * model or ISA (a foreign file). */
typedef struct kl_mm_tuned {
    int ok;              /* 1: b holds the tuned blocking */
    kl_mm_blocking b;
    long direct_kib;     /* the direct-path budget in KiB; 0 when the file gives none */
    char path[512];      /* the file looked at ("" if none) */
    char reason[256];    /* why it was not used (ok == 0), for kl_matmul_blocking_detail */
} kl_mm_tuned;

/* Parses `text` as a tuned file for a CPU called cpu_model with ISA isa_name. */
void kl_mm_tuned_parse(const char *text, const char *cpu_model, const char *isa_name,
                       kl_mm_tuned *out);
/* Reads the tuned file for this machine: KL_MATMUL_TUNED (a path; "none" or "" for no file),
 * else $XDG_CACHE_HOME or ~/.cache, /kernellab/matmul-<cpu model>.json. Never fails: a
 * missing, unreadable, malformed or foreign file leaves ok == 0 and says why in reason. */
void kl_mm_tuned_load(kl_mm_tuned *out);
/* The default path for this CPU (what scripts/tune writes), into buf; "" when there is no
 * home or cache directory. */
void kl_mm_tuned_default_path(char *buf, size_t cap);
/* /proc/cpuinfo's "model name" (trimmed), else "unknown". */
const char *kl_mm_cpu_model(void);

#endif
