/* The five-loop Goto/BLIS driver shared by every packed matmul rung (packed, avx2, avx512,
 * openmp). A rung supplies only its MR x NR micro-kernel; the driver blocks, packs, threads.
 *
 *   for jc in n by NC:                 B panel  Bp[KC][NC]  (packed once, shared: L3)
 *     for pc in k by KC:
 *       pack B[pc:pc+KC, jc:jc+NC] -> Bp, as NC/NR slivers of [KC][NR]
 *       for ic in m by MC:             A block  Ap[MC][KC]  (packed per thread: L2)
 *         pack A[ic:ic+MC, pc:pc+KC] -> Ap, as MC/MR micro-panels of [KC][MR]
 *         for jr in NC by NR:          B sliver [KC][NR]   (stays in L1)
 *           for ir in MC by MR:        A micro-panel [KC][MR] (streams from L2)
 *             micro-kernel: C[ir:+MR, jr:+NR] = alpha * Ap_ir . Bp_jr + beta' * C
 *             on the last KC block: epilogue(C tile), if any (kl_gemm_ep: fused bias + ReLU)
 *
 * beta' is the caller's beta on the first KC block and 1 afterwards. Panels are zero-padded
 * past m and n, so fringe tiles run the same micro-kernel, which writes back only the valid
 * mr x nr corner. */
#ifndef KL_MATMUL_GEMM_H
#define KL_MATMUL_GEMM_H

#include "blocking.h"
#include "matmul.h"

/* c[mr][nr] (row stride ldc) = alpha * a.b + beta * c, for the valid mr <= MR, nr <= NR corner.
 *   a: packed micro-panel, a[p*MR + i], p < k, i < MR (rows >= mr are zero)
 *   b: packed sliver,      b[p*NR + j], p < k, j < NR (cols >= nr are zero)
 * beta == 0: c is not read. k >= 1. a is 64-byte aligned, b at least 16 (32*k bytes apart for
 * NR = 8).
 * A kernel with a_bcast > 1 reads a[(p*MR + i)*a_bcast + l], l < a_bcast: each element of A
 * stored a_bcast times, packed by its own pack_a. */
/* Returns KL_OK (a student's stub returns KL_EUNSUPPORTED; the driver passes that on). */
typedef kl_status (*kl_gemm_ukr)(ptrdiff_t k, float alpha, const float *a, const float *b,
                                 float beta, float *c, ptrdiff_t ldc, ptrdiff_t mr, ptrdiff_t nr);

/* Packing routines, same contract as kl_gemm_pack_a / kl_gemm_pack_b below. */
typedef void (*kl_gemm_pack_fn)(ptrdiff_t mnr, ptrdiff_t d0, ptrdiff_t d1, const float *src,
                                ptrdiff_t ld, float *dst);

typedef struct kl_gemm_kernel {
    ptrdiff_t mr, nr;
    ptrdiff_t a_bcast; /* copies of each element of A in Ap: 1, or 4 for the SSE kernel, which
                        * then loads a ready broadcast instead of shuffling one (packed.c) */
    kl_gemm_ukr ukr;
    kl_gemm_pack_fn pack_a, pack_b; /* NULL: the portable ones below (a_bcast 1) */
} kl_gemm_kernel;

/* Packing (shared helpers; any rung may use them).
 *   pack_a: Ap[ceil(mc/mr)][kc][mr] <- A[mc][kc] (lda), rows past mc zero
 *   pack_b: Bp[ceil(nc/nr)][kc][nr] <- B[kc][nc] (ldb), columns past nc zero */
void kl_gemm_pack_a(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *A, ptrdiff_t lda,
                    float *Ap);
void kl_gemm_pack_b(ptrdiff_t nr, ptrdiff_t kc, ptrdiff_t nc, const float *B, ptrdiff_t ldb,
                    float *Bp);

/* The same blocks from operands stored transposed (for the backward pass, dA = dC.Bt and
 * dB = At.dC): pack_at reads op(A)[mc][kc] from At[kc][mc] (lda), pack_bt reads op(B)[kc][nc]
 * from Bt[nc][kc] (ldb). The packed layout is the same, so every micro-kernel runs unchanged. */
void kl_gemm_pack_at(ptrdiff_t mr, ptrdiff_t mc, ptrdiff_t kc, const float *At, ptrdiff_t lda,
                     float *Ap);
void kl_gemm_pack_bt(ptrdiff_t nr, ptrdiff_t kc, ptrdiff_t nc, const float *Bt, ptrdiff_t ldb,
                     float *Bp);

/* Exact scratch bytes kl_gemm allocates for this call (one aligned block):
 *   T * round64(MCe * KCe * a_bcast * 4) + P * round64(KCe * NCe * 4)
 * where MCe, KCe, NCe are the blocks actually used (<= MC, KC, NC: the cache blocks, evened out
 * so no block is a sliver, and trimmed to the problem), T the threads that each pack their
 * own A block, and P the B panel buffers: 1 on one thread, 2 for a team (it packs the next
 * panel while the current one may still be read). Upper bound:
 * (T*MC*KC*a_bcast + P*KC*NC)*4 + (T+P)*64 bytes. */
size_t kl_gemm_scratch(const kl_gemm_kernel *uk, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                       int threads);

/* An epilogue: applied by the driver to each MR x NR tile of C right after the micro-kernel
 * writes it on the LAST KC block, when the tile is final and still in L1 (fusing e.g.
 * bias + ReLU saves a later pass that reads and writes all of C). NULL: plain matmul. */
typedef struct kl_gemm_epilogue kl_gemm_epilogue;
struct kl_gemm_epilogue {
    /* c[mr][nr] (row stride ldc) is C[i..i+mr)[col..col+nr): finish it in place. */
    void (*tile)(const kl_gemm_epilogue *ep, float *c, ptrdiff_t ldc, ptrdiff_t col,
                 ptrdiff_t mr, ptrdiff_t nr);
    const float *bias; /* the epilogue's data: bias[n], or NULL */
};

/* C = alpha * A.B + beta * C with checked arguments (validate.c), alpha != 0, k >= 1.
 * threads > 1 runs the OpenMP team (if built with OpenMP). Returns KL_ENOMEM with C untouched
 * when the packing buffers cannot be allocated. */
kl_status kl_gemm(const kl_gemm_kernel *uk, int threads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                  float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                  float beta, float *C, ptrdiff_t ldc);
/* The same, then ep (if not NULL) on every tile of C once its last KC block is written. */
kl_status kl_gemm_ep(const kl_gemm_kernel *uk, int threads, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
                     float alpha, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb,
                     float beta, float *C, ptrdiff_t ldc, const kl_gemm_epilogue *ep);

/* kl_gemm with op(A) = At when trans_a (A stored k x m, lda >= m) and op(B) = Bt when trans_b
 * (B stored n x k, ldb >= k); the packing absorbs the transpose (kl_gemm_pack_at/_bt), the same
 * scratch as kl_gemm. KL_EINVAL for a kernel with a_bcast > 1 (no transposing packer for it). */
kl_status kl_gemm_t(const kl_gemm_kernel *uk, int threads, int trans_a, int trans_b, ptrdiff_t m,
                    ptrdiff_t n, ptrdiff_t k, float alpha, const float *A, ptrdiff_t lda,
                    const float *B, ptrdiff_t ldb, float beta, float *C, ptrdiff_t ldc);

/* Shared by avx2.c / avx512.c and openmp.c: each SIMD rung's micro-kernel, and its no-packing
 * path for small problems (where packing costs more than it saves). AVX-512 has several
 * micro-kernel shapes; kl_gemm_avx512_kernel() is the one the blocking model (or the tuned
 * file, or KL_MATMUL_SHAPE) picks for this CPU. */
enum { KL_AVX512_SHAPES = 2 };
extern const kl_gemm_kernel kl_gemm_avx2_kernel, kl_gemm_avx512_kernels[KL_AVX512_SHAPES];
const kl_gemm_kernel *kl_gemm_avx512_kernel(void);
/* 1: the SIMD rung of `isa` runs m x n x k on its direct path, where packing would only add a
 * copy. That path re-reads all of A for each 32- (AVX2: 16-) column sliver of B, and loads
 * B's rows where they are:
 * - AVX2 (6x16 tiles, 2 loads of B per 12 FMAs): while A and B together fit in half of L2;
 * - AVX-512 (12x32, 2 loads per 24 FMAs): while A with one sliver of B (32 columns, or n if
 *   fewer) fits in L2, and B does too; this holds wherever AVX2's rule does. On Zen 4 (1 MiB
 *   L2) square n = 257 to 460 ran 5-15% faster direct, n = 512 slower; AVX2's tiles lost
 *   past their rule.
 * kl_matmul_direct_ok measures against kl_matmul_direct_bytes_for(isa) (L2, unless
 * scripts/tune timed another edge for that ISA on this CPU or KL_MATMUL_DIRECT_KIB says;
 * blocking.c) and reads KL_MATMUL_DIRECT (0: never, so the tests can sweep the packed path on
 * every shape); kl_matmul_direct_rule is the rule alone, for a budget of l2 bytes. */
int kl_matmul_direct_ok(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);
size_t kl_matmul_direct_bytes_for(kl_isa isa);
int kl_matmul_direct_rule(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, size_t l2);
/* The openmp rung's direct path (openmp.c). Below 2 * 64^3 flops (kl_matmul_team_pays) one
 * thread runs it alone: starting a parallel region costs microseconds, as long as a 64^3
 * multiply takes on one SIMD core. The same floor keeps matmul_t's openmp rung and the fused
 * linear+ReLU rung on the calling thread. Above it, a team of `threads` splits C's rows in whole MR panels when m
 * has at least two per thread (else its columns, in NR slivers). Each thread then reads its
 * share of A's rows and all of B from its own L2, so the direct rule applies to that share
 * (kl_matmul_team_rows): on Zen 4 at 2 threads, shapes whose share passes the AVX-512 rule and
 * whose whole A does not (512^3, 768x256x512, 1000x300x300) ran 1.17-1.44x faster direct than
 * packed. kl_matmul_team_direct_ok is what the rung and its scratch size ask. It assumes what
 * the team split assumes: each thread on its own core with its own L2, and the whole team
 * granted (nested in another parallel region, or with OMP_DYNAMIC, fewer threads each run a
 * larger share; the result is the same, only slower). */
int kl_matmul_team_pays(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k);
int kl_matmul_team_by_rows(ptrdiff_t m, ptrdiff_t mr, int threads);
ptrdiff_t kl_matmul_team_rows(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t mr, int threads);
int kl_matmul_team_direct_ok(kl_isa isa, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, ptrdiff_t mr,
                             int threads);
/* {MR, NR, MC, KC, NC} of the blocking uk runs on this machine (kl_mm_blocking_list); returns 5. */
size_t kl_gemm_blocking_list(const kl_gemm_kernel *uk, ptrdiff_t *sizes, size_t cap);
/* The plain-C rung's micro-kernel (packed.c). */
const kl_gemm_kernel *kl_gemm_packed_kernel(void);
/* The micro-kernel the openmp rung runs on this CPU: kl_matmul_dispatch()'s. */
const kl_gemm_kernel *kl_gemm_openmp_kernel(void);

#endif
