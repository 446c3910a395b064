/* The five-loop Goto/BLIS driver and the packing routines (see gemm.h for the loop nest).
 * Packing copies a block into the exact order the micro-kernel reads it, so the micro-kernel
 * streams two contiguous, aligned arrays with no TLB or cache-set conflicts, whatever lda/ldb. */
#include "gemm.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static ptrdiff_t cdiv(ptrdiff_t a, ptrdiff_t b) { return (a + b - 1) / b; }
static ptrdiff_t round_up(ptrdiff_t a, ptrdiff_t b) { return cdiv(a, b) * b; }
static size_t round64(size_t bytes) { return (bytes + 63) & ~(size_t)63; }

/* Ap[MCe/MR][KCe][MR] <- A[mc][kc] (lda): micro-panel r holds rows r*MR.., column-major within
 * the panel (a[p*MR + i]); rows past mc are zero. Inlined with MR a constant, the i loop unrolls
 * into MR loads from MR row streams and one contiguous run of stores: packing stays ~1% of the
 * multiply (a generic strided loop was ~8% at n = 1024). */
static inline __attribute__((always_inline)) void pack_a_mr(ptrdiff_t mr, ptrdiff_t mc,
                                                            ptrdiff_t kc, const float *A,
                                                            ptrdiff_t lda, float *Ap) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t r = 0; r < mc; r += mr, Ap += mr * kc) {
        ptrdiff_t rows = mc - r < mr ? mc - r : mr;
        const float *a = A + r * lda;
        if (rows == mr) {
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t i = 0; i < mr; i++) Ap[p * mr + i] = a[i * lda + p];
        } else {
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t i = 0; i < mr; i++) Ap[p * mr + i] = i < rows ? a[i * lda + p] : 0.0f;
        }
    }
    /* END SOLUTION */
}

void kl_gemm_pack_a(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t lda,
                    float *Ap) {
    switch (mr) { /* the micro-kernel shapes that exist; others take the generic loop */
    case 4: pack_a_mr(4, mc, kc, A, lda, Ap); break;
    case 6: pack_a_mr(6, mc, kc, A, lda, Ap); break;
    case 12: pack_a_mr(12, mc, kc, A, lda, Ap); break;
    case 14: pack_a_mr(14, mc, kc, A, lda, Ap); break;
    default: pack_a_mr(mr, mc, kc, A, lda, Ap);
    }
}

/* Bp[NCe/NR][KCe][NR] <- B[kc][nc] (ldb): sliver s holds columns s*NR.., row-major within the
 * sliver (b[p*NR + j]); columns past nc are zero. Rows of B are contiguous, so this is a copy;
 * with NR a constant each row is a few vector moves (memcpy per 64 bytes cost ~5%). */
static inline __attribute__((always_inline)) void pack_b_nr(ptrdiff_t nr, ptrdiff_t kc,
                                                            ptrdiff_t nc, const float *B,
                                                            ptrdiff_t ldb, float *Bp) {
    /* BEGIN SOLUTION */
    /* Row by row: each row of B is read once, front to back (a stream the prefetcher follows),
     * and scattered into the slivers. Sliver by sliver would read B down a column, one new
     * page per row. */
    ptrdiff_t full = nc / nr * nr, cols = nc - full;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const float *b = B + p * ldb;
        float *dst = Bp + p * nr;
        for (ptrdiff_t s = 0; s < full; s += nr, dst += nr * kc)
            for (ptrdiff_t j = 0; j < nr; j++) dst[j] = b[s + j];
        if (cols)
            for (ptrdiff_t j = 0; j < nr; j++) dst[j] = j < cols ? b[full + j] : 0.0f;
    }
    /* END SOLUTION */
}

void kl_gemm_pack_b(ptrdiff_t nr, ptrdiff_t kc, ptrdiff_t nc, const float *B, ptrdiff_t ldb,
                    float *Bp) {
    switch (nr) {
    case 8: pack_b_nr(8, kc, nc, B, ldb, Bp); break;
    case 16: pack_b_nr(16, kc, nc, B, ldb, Bp); break;
    case 32: pack_b_nr(32, kc, nc, B, ldb, Bp); break;
    default: pack_b_nr(nr, kc, nc, B, ldb, Bp);
    }
}

/* Ap[ceil(mc/mr)][kc][mr] <- op(A)[mc][kc] with A stored transposed, At[kc][mc] (lda): the
 * element (i, p) is At[p*lda + i], so each row of a micro-panel is a contiguous run of At.
 * Same layout as kl_gemm_pack_a: the micro-kernel cannot tell the two apart. */
static inline __attribute__((always_inline)) void pack_at_mr(ptrdiff_t mr, ptrdiff_t mc,
                                                             ptrdiff_t kc, const float *At,
                                                             ptrdiff_t lda, float *Ap) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t r = 0; r < mc; r += mr, Ap += mr * kc) {
        ptrdiff_t rows = mc - r < mr ? mc - r : mr;
        if (rows == mr) { /* whole panels: mr contiguous floats per p, a few vector moves */
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t i = 0; i < mr; i++) Ap[p * mr + i] = At[p * lda + r + i];
        } else {
            for (ptrdiff_t p = 0; p < kc; p++)
                for (ptrdiff_t i = 0; i < mr; i++) Ap[p * mr + i] = i < rows ? At[p * lda + r + i] : 0.0f;
        }
    }
    /* END SOLUTION */
}

void kl_gemm_pack_at(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *At, ptrdiff_t lda,
                     float *Ap) {
    switch (mr) {
    case 4: pack_at_mr(4, mc, kc, At, lda, Ap); break;
    case 6: pack_at_mr(6, mc, kc, At, lda, Ap); break;
    case 12: pack_at_mr(12, mc, kc, At, lda, Ap); break;
    default: pack_at_mr(mr, mc, kc, At, lda, Ap);
    }
}

/* Bp[ceil(nc/nr)][kc][nr] <- op(B)[kc][nc] with B stored transposed, Bt[nc][kc] (ldb): the
 * element (p, j) is Bt[j*ldb + p], so a sliver gathers nr rows of Bt, as pack_a does for A. */
static inline __attribute__((always_inline)) void pack_bt_nr(ptrdiff_t nr, ptrdiff_t kc,
                                                             ptrdiff_t nc, const float *Bt,
                                                             ptrdiff_t ldb, float *Bp) {
    /* BEGIN SOLUTION */
    for (ptrdiff_t s = 0; s < nc; s += nr, Bp += nr * kc) {
        ptrdiff_t cols = nc - s < nr ? nc - s : nr;
        const float *b = Bt + s * ldb;
        for (ptrdiff_t p = 0; p < kc; p++)
            for (ptrdiff_t j = 0; j < nr; j++) Bp[p * nr + j] = j < cols ? b[j * ldb + p] : 0.0f;
    }
    /* END SOLUTION */
}

void kl_gemm_pack_bt(ptrdiff_t nr, ptrdiff_t kc, ptrdiff_t nc, const float *Bt, ptrdiff_t ldb,
                     float *Bp) {
    switch (nr) {
    case 8: pack_bt_nr(8, kc, nc, Bt, ldb, Bp); break;
    case 16: pack_bt_nr(16, kc, nc, Bt, ldb, Bp); break;
    case 32: pack_bt_nr(32, kc, nc, Bt, ldb, Bp); break;
    default: pack_bt_nr(nr, kc, nc, Bt, ldb, Bp);
    }
}

/* The blocks one call uses. Each cache block is evened out over the problem, and MC blocks are
 * cut at MR-row micro-panels: the P = ceil(m / MR) panels are dealt out so block i gets panels
 * [P*i/blocks, P*(i+1)/blocks). m = 257 with MC = 252, MR = 6 runs blocks of 126 and 131 rows
 * rather than 252 + 5. With T threads the number of blocks is a multiple of T and each thread
 * takes consecutive blocks, so the threads' rows differ by at most one micro-panel (blocks of
 * a fixed MCe with a short last one gave 522 + 502 rows at m = 1024: one thread idle 4% of
 * each KC panel, at the barrier). */
typedef struct plan {
    ptrdiff_t mc, kc, nc; /* effective blocks; mc is the largest MC block (for Ap's size) */
    ptrdiff_t blocks;     /* MC blocks */
    int threads;          /* threads that get work (each packs its own A block) */
} plan;

static plan make_plan(const kl_gemm_kernel *uk, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                      int threads) {
    kl_mm_blocking b = kl_mm_blocking_for(uk->mr, uk->nr, uk->a_bcast);
    plan p;
    p.kc = cdiv(k, cdiv(k, b.kc));
    p.nc = round_up(cdiv(n, cdiv(n, b.nc)), uk->nr);
    ptrdiff_t panels = cdiv(m, uk->mr); /* the finest split of m */
    int t = threads < 1 ? 1 : threads;
    if (t > panels) t = (int)panels;
    p.blocks = round_up(cdiv(m, b.mc), t);
    if (p.blocks > panels) p.blocks = panels / t * t; /* >= t: no empty block */
    p.mc = cdiv(panels, p.blocks) * uk->mr;
    p.threads = t;
    return p;
}

/* Rows [*ic, *ic + mc) of MC block blk (see make_plan); returns mc. */
static ptrdiff_t block_rows(const kl_gemm_kernel *uk, const plan *pl, ptrdiff_t m, ptrdiff_t blk,
                            ptrdiff_t *ic) {
    ptrdiff_t panels = cdiv(m, uk->mr);
    ptrdiff_t end = panels * (blk + 1) / pl->blocks * uk->mr;
    *ic = panels * blk / pl->blocks * uk->mr;
    return (end < m ? end : m) - *ic;
}

size_t kl_gemm_scratch(const kl_gemm_kernel *uk, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       int threads) {
    if (m <= 0 || n <= 0 || k <= 0) return 0;
    plan p = make_plan(uk, m, n, k, threads);
    size_t panels = p.threads > 1 ? 2 : 1; /* a team double-buffers the B panel */
    return (size_t)p.threads * round64((size_t)(p.mc * p.kc * uk->a_bcast) * sizeof(float)) +
           panels * round64((size_t)(p.kc * p.nc) * sizeof(float));
}

/* The macro-kernel: one packed MCe x KCe block of A times one packed KCe x NCe panel of B,
 * into C[mc][nc] (C's column col). jr outside ir: the B sliver stays in L1 while A micro-panels
 * stream past. ep: the epilogue on the last KC block, else NULL (one predictable branch per
 * tile for plain matmul). */
static inline int macro_kernel(const kl_gemm_kernel *uk, ptrdiff_t mc, ptrdiff_t nc, ptrdiff_t kc,
                               float alpha, const float *Ap, const float *Bp, float beta,
                               float *C, ptrdiff_t ldc, ptrdiff_t col, const kl_gemm_epilogue *ep) {
    /* BEGIN SOLUTION */
    const ptrdiff_t MR = uk->mr, NR = uk->nr;
    int bad = 0;
    for (ptrdiff_t jr = 0; jr < nc; jr += NR) {
        ptrdiff_t nr = nc - jr < NR ? nc - jr : NR;
        for (ptrdiff_t ir = 0; ir < mc; ir += MR) {
            ptrdiff_t mr = mc - ir < MR ? mc - ir : MR;
            bad |= uk->ukr(kc, alpha, Ap + ir * kc * uk->a_bcast, Bp + jr * kc, beta,
                           C + ir * ldc + jr, ldc, mr, nr) != KL_OK;
            if (ep) ep->tile(ep, C + ir * ldc + jr, ldc, col + jr, mr, nr); /* still in L1 */
        }
    }
    return bad;
    /* END SOLUTION */
}

/* What one thread of the team runs. The threads pack each KC x NC panel of B together (each
 * packs some of its slivers), then each thread packs and multiplies its own MC blocks of A.
 *
 * One barrier per panel, not two: panels alternate between two buffers, Bp[0] and Bp[1], so the
 * barrier after packing panel q says both "Bp[q % 2] is complete" and "everybody is done with
 * panel q - 1", whose buffer is the one panel q + 1 is packed into. A thread that finishes its
 * blocks early packs its share of the next panel instead of waiting. This matters on a shared
 * machine, where other processes preempt our threads and every barrier waits for the thread
 * that was delayed (modules/01_matmul/README.md has the measurement). Handing out MC blocks
 * dynamically or packing all of k at once (one barrier per call) were no better, so the simple
 * static split stays.
 *
 * Why ic (the 3rd loop) and not jr (the 2nd): where each core has a private L2 and the cores
 * share L3. Splitting ic gives each core its own A block in its own L2 and shares the
 * B panel through L3, where it lives anyway. Splitting jr needs both cores to read the same
 * A block (so it sits in both L2s, half of each wasted) and a barrier per MC block. jr
 * balances better when m is small and n large (ic gives each thread whole MR panels of rows:
 * m = 16 splits 12 + 4); ic balances to within MR rows otherwise. */
static inline int gemm_team(const kl_gemm_kernel *uk, const plan *pl, int tid, int nth,
                            ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                            ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                            ptrdiff_t ldc, const kl_gemm_epilogue *ep, float *Ap,
                            float *const Bp[2], int trans_a, int trans_b) {
    /* BEGIN SOLUTION */
    /* Work is split by hand, not with "omp for": the single-threaded rungs run this too, maybe
     * inside a caller's parallel region, where an orphaned "omp for" would bind to the
     * caller's team. The barrier runs only when nth > 1, i.e. inside our own region. */
    const ptrdiff_t NR = uk->nr, KC = pl->kc, NC = pl->nc, blocks = pl->blocks;
    kl_gemm_pack_fn pack_a = uk->pack_a ? uk->pack_a : kl_gemm_pack_a;
    kl_gemm_pack_fn pack_b = uk->pack_b ? uk->pack_b : kl_gemm_pack_b;
    if (trans_a) pack_a = kl_gemm_pack_at; /* the packing absorbs a transposed operand */
    if (trans_b) pack_b = kl_gemm_pack_bt;
    const ptrdiff_t b0 = blocks * tid / nth, b1 = blocks * (tid + 1) / nth; /* my MC blocks */
    int bad = 0, q = 0; /* q: the panel's buffer, Bp[q] */
    for (ptrdiff_t jc = 0; jc < n; jc += NC) {
        ptrdiff_t nc = n - jc < NC ? n - jc : NC;
        for (ptrdiff_t pc = 0; pc < k; pc += KC, q ^= 1) {
            ptrdiff_t kc = k - pc < KC ? k - pc : KC;
            float beta_p = pc == 0 ? beta : 1.0f; /* later KC blocks accumulate */
            const kl_gemm_epilogue *ep_p = pc + kc == k ? ep : NULL; /* C is final */
            ptrdiff_t slivers = cdiv(nc, NR);
            ptrdiff_t s0 = slivers * tid / nth, s1 = slivers * (tid + 1) / nth; /* my slivers */
            if (s1 > s0) {
                ptrdiff_t cols = (s1 * NR < nc ? s1 * NR : nc) - s0 * NR;
                ptrdiff_t j0 = jc + s0 * NR; /* B(pc, j0): B[pc][j0], or Bt[j0][pc] */
                pack_b(NR, kc, cols, B + (trans_b ? j0 * ldb + pc : pc * ldb + j0), ldb,
                       Bp[q] + s0 * NR * kc);
            }
#ifdef _OPENMP
            if (nth > 1) {
#pragma omp barrier
            } /* Bp[q] is complete, and nobody reads Bp[q ^ 1] any more */
#endif
            for (ptrdiff_t blk = b0; blk < b1; blk++) {
                ptrdiff_t ic, mc = block_rows(uk, pl, m, blk, &ic);
                pack_a(uk->mr, mc, kc, A + (trans_a ? pc * lda + ic : ic * lda + pc), lda, Ap);
                bad |= macro_kernel(uk, mc, nc, kc, alpha, Ap, Bp[q], beta_p, C + ic * ldc + jc,
                                    ldc, jc, ep_p);
            }
        }
    }
    return bad;
    /* END SOLUTION */
}

kl_status kl_gemm(const kl_gemm_kernel *uk, int threads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                  float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                  float beta, float *C, ptrdiff_t ldc) {
    return kl_gemm_ep(uk, threads, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, NULL);
}

static kl_status gemm_run(const kl_gemm_kernel *uk, int threads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                     float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                     float beta, float *C, ptrdiff_t ldc, const kl_gemm_epilogue *ep, int trans_a,
                          int trans_b) {
    /* BEGIN SOLUTION */
    plan pl = make_plan(uk, m, n, k, threads);
    size_t a_bytes = round64((size_t)(pl.mc * pl.kc * uk->a_bcast) * sizeof(float));
    size_t b_bytes = round64((size_t)(pl.kc * pl.nc) * sizeof(float));
    /* One 64-byte-aligned block: [threads][a_bytes] A blocks, then the B panel (two for a
     * team: gemm_team packs panel q + 1 while a slower thread may still read panel q). */
    size_t panels = pl.threads > 1 ? 2 : 1;
    float *buf = aligned_alloc(64, (size_t)pl.threads * a_bytes + panels * b_bytes);
    if (!buf) return KL_ENOMEM; /* nothing written yet */
    float *Bp0 = (float *)((char *)buf + (size_t)pl.threads * a_bytes);
    float *const Bp[2] = {Bp0, (float *)((char *)Bp0 + (panels - 1) * b_bytes)}; /* 1: same */
    size_t a_floats = a_bytes / sizeof(float);
    int bad = 0;
#ifdef _OPENMP
    if (pl.threads > 1) {
#pragma omp parallel num_threads(pl.threads) reduction(| : bad)
        {
            int tid = omp_get_thread_num(), nth = omp_get_num_threads(); /* nth may be < asked */
            bad |= gemm_team(uk, &pl, tid, nth, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, ep,
                             buf + (size_t)tid * a_floats, Bp, trans_a, trans_b);
        }
    } else
#endif
        bad = gemm_team(uk, &pl, 0, 1, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, ep, buf, Bp,
                        trans_a, trans_b);
    free(buf);
    return bad ? KL_EUNSUPPORTED : KL_OK;
    /* END SOLUTION */
}

kl_status kl_gemm_ep(const kl_gemm_kernel *uk, int threads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                     float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                     float beta, float *C, ptrdiff_t ldc, const kl_gemm_epilogue *ep) {
    return gemm_run(uk, threads, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, ep, 0, 0);
}

kl_status kl_gemm_t(const kl_gemm_kernel *uk, int threads, int trans_a, int trans_b, ptrdiff_t m,
                    ptrdiff_t n, ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda,
                    const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc) {
    if (uk->a_bcast != 1 && trans_a) return KL_EINVAL;
    return gemm_run(uk, threads, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, NULL, trans_a != 0,
                    trans_b != 0);
}

/* The direct path's rule (gemm.h), plain arithmetic: the tests check it on any CPU. */
int kl_matmul_direct_rule(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, size_t l2) {
    const double row = (double)k * sizeof(float); /* bytes of a row of A, or a column of B */
    const double sliver = n < 32 ? (double)n : 32.0; /* columns of B one pass over A uses */
    if (isa >= KL_ISA_AVX512)
        return ((double)m + sliver) * row <= (double)l2 && (double)n * row <= (double)l2;
    return ((double)m + (double)n) * row <= (double)l2 / 2;
}

int kl_matmul_team_pays(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    return 2.0 * (double)m * (double)n * (double)k >= 2.0 * 64 * 64 * 64;
}

int kl_matmul_team_by_rows(ptrdiff_t m, ptrdiff_t mr, int threads) {
    return m >= 2 * mr * threads;
}

/* The rows of A one thread of the direct path's team reads: a share of whole MR panels when
 * a team runs and splits rows, else all m. */
ptrdiff_t kl_matmul_team_rows(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t mr, int threads) {
    if (threads < 2 || !kl_matmul_team_pays(m, n, k) || !kl_matmul_team_by_rows(m, mr, threads))
        return m;
    return cdiv(cdiv(m, mr), threads) * mr;
}

/* ---- registry helpers of the SIMD rungs ----
 * Here, compiled without SIMD flags, so tests and the Massif driver can ask any variant for its
 * blocking and scratch on any CPU: code in the AVX2/AVX-512 files may use instructions this CPU
 * lacks even in plain scalar functions (the compiler may use them anywhere in such a file). */
#ifdef KL_HAVE_SIMD
int kl_matmul_direct_ok(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    static volatile ptrdiff_t env = KL_ENV_UNREAD;
    if (kl_env_size("KL_MATMUL_DIRECT", 0, 1, &env) == 0) return 0;
    return kl_matmul_direct_rule(isa, m, n, k, kl_matmul_direct_bytes_for(isa));
}

const kl_gemm_kernel *kl_gemm_avx512_kernel(void) {
    static volatile int pick = -1; /* benign race: every first caller picks the same */
    if (pick < 0) {
        ptrdiff_t shapes[KL_AVX512_SHAPES][2];
        for (int i = 0; i < KL_AVX512_SHAPES; i++)
            shapes[i][0] = kl_gemm_avx512_kernels[i].mr, shapes[i][1] = kl_gemm_avx512_kernels[i].nr;
        pick = (int)kl_mm_shape_pick((const ptrdiff_t (*)[2])shapes, KL_AVX512_SHAPES);
    }
    return &kl_gemm_avx512_kernels[pick];
}

const kl_gemm_kernel *kl_gemm_openmp_kernel(void) { return kl_matmul_dispatch()->kernel; }

int kl_matmul_team_direct_ok(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t mr,
                             int threads) {
    return kl_matmul_direct_ok(isa, kl_matmul_team_rows(m, n, k, mr, threads), n, k);
}

size_t kl_matmul_avx2_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads; /* single-threaded */
    if (kl_matmul_direct_ok(KL_ISA_AVX2, m, n, k)) return 0;
    return kl_gemm_scratch(&kl_gemm_avx2_kernel, m, n, k, 1);
}

size_t kl_matmul_avx512_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    (void)threads; /* single-threaded */
    if (kl_matmul_direct_ok(KL_ISA_AVX512, m, n, k)) return 0;
    return kl_gemm_scratch(kl_gemm_avx512_kernel(), m, n, k, 1);
}

/* (T * MCe * KCe + KCe * NCe) * 4 bytes, each buffer rounded up to 64 (see gemm.h);
 * 0 on the direct path (no packing, on one thread or a team). */
size_t kl_matmul_openmp_scratch(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, int threads) {
    const kl_gemm_kernel *uk = kl_gemm_openmp_kernel();
    int t = threads > 0 ? threads : kl_threads();
    return kl_matmul_team_direct_ok(kl_matmul_dispatch()->isa, m, n, k, uk->mr, t)
               ? 0
               : kl_gemm_scratch(uk, m, n, k, t);
}

size_t kl_matmul_avx2_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_gemm_blocking_list(&kl_gemm_avx2_kernel, sizes, cap);
}

size_t kl_matmul_avx512_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_gemm_blocking_list(kl_gemm_avx512_kernel(), sizes, cap);
}

size_t kl_matmul_openmp_blocking(ptrdiff_t *sizes, size_t cap) {
    return kl_gemm_blocking_list(kl_gemm_openmp_kernel(), sizes, cap);
}
#endif

size_t kl_gemm_blocking_list(const kl_gemm_kernel *uk, ptrdiff_t *sizes, size_t cap) {
    return kl_mm_blocking_list(uk->mr, uk->nr, uk->a_bcast, sizes, cap);
}

/* The kernel the fastest packed rung on this CPU runs (what kl_matmul_blocking reports). */
void kl_gemm_best_shape(ptrdiff_t *mr, ptrdiff_t *nr, ptrdiff_t *bcast) {
#ifdef KL_HAVE_SIMD
    if (kl_cpu_isa() >= KL_ISA_AVX2) {
        const kl_gemm_kernel *uk = kl_gemm_openmp_kernel();
        *mr = uk->mr, *nr = uk->nr, *bcast = uk->a_bcast;
        return;
    }
#endif
    const kl_gemm_kernel *uk = kl_gemm_packed_kernel();
    *mr = uk->mr, *nr = uk->nr, *bcast = uk->a_bcast;
}
