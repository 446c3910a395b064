/* Block sizes for the packed matmul rungs (Goto/BLIS five loops), chosen from the cache sizes.
 * Shapes: MR x NR register tile; MC x KC packed block of A (L2); KC x NC packed panel of B (L3);
 * KC x NR sliver of B (L1). */
#ifndef KL_MATMUL_BLOCKING_H
#define KL_MATMUL_BLOCKING_H

#include <stddef.h>

typedef struct kl_mm_blocking {
    ptrdiff_t mr, nr;   /* micro-kernel tile, fixed by the kernel's registers */
    ptrdiff_t mc, kc, nc; /* cache blocks: mc % mr == 0, nc % nr == 0 */
} kl_mm_blocking;

/* The blocking for an mr x nr micro-kernel on this machine (env KL_MATMUL_MC/KC/NC override).
 * Computed once per (mr, nr) and cached; safe to call from several threads. */
kl_mm_blocking kl_mm_blocking_for(ptrdiff_t mr, ptrdiff_t nr);

/* Writes {MR, NR, MC, KC, NC} (at most cap of them) for the registry; returns 5. */
size_t kl_mm_blocking_list(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t *sizes, size_t cap);

#endif
