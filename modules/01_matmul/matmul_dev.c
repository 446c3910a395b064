// %% [markdown]
// # Module 01: Matmul
//
// From the textbook triple loop to a packed SIMD micro-kernel on every core, one rung at a time.
// Every rung computes the same thing, `C = alpha·A·B + beta·C` (float32, row-major, explicit
// leading dimensions: what `bli_sgemm` computes), and every rung is held to a float64 oracle.
//
// **Learning objectives:**
// - Build seven matmul rungs (naive, interchange, blocked, packed, AVX2, AVX-512, OpenMP) and
//   test each one against a float64 oracle on shapes chosen to break its tiling.
// - Count a matmul's flops and bytes and predict, from arithmetic intensity, which rungs are
//   bound by memory and which by arithmetic.
// - Explain what each step buys: loop order (unit stride), cache blocking (reuse in L1/L2),
//   packing (contiguous panels, no conflict misses), register blocking and SIMD (an MR×NR tile
//   of C in registers, FMA), threads (which loop to split, and why).
// - Read the Goto/BLIS five-loop structure and say which cache each block lives in.
// - Measure GFLOP/s honestly on a shared machine (medians, printed, never asserted), and check
//   a kernel's heap use against its scratch formula with Valgrind Massif.
// - Say what PyTorch's `nn.Linear` runs on a CPU, and how that relates to these rungs.

// %% [code]
#define _POSIX_C_SOURCE 200809L /* setenv, unsetenv, access */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lesson.h"
#include "matmul/gemm.h" /* kl_gemm_pack_a/b, tested directly */

// %% [markdown]
// ## Part 1: Foundations
//
// ### Flops
// Each of the m·n elements of C is a dot product of length k: k multiplies and k adds. So a
// matmul is **2·m·n·k flops** (the alpha/beta scaling adds O(m·n), which we ignore). For
// m = n = k = 1024 that is 2·1024³ = 2,147,483,648 ≈ 2.15 GFLOP.
//
// ### Bytes that must move
// At the very least A is read once (4·m·k bytes), B once (4·k·n) and C read and written once
// (8·m·n): **4·(m·k + k·n + 2·m·n) bytes**. For n = 1024: 4·4·1024² = 16 MiB.
//
// ### Arithmetic intensity
// Arithmetic intensity (AI) = flops / bytes moved to or from memory. With the minimum traffic
// above, a square matmul has AI = 2n³ / 16n² = **n/8** flop/byte: 128 at n = 1024 (Module 00
// uses n/6, for beta = 0, where C is only written). A core with two 8-wide FMA pipes (an
// example: Zen 3, Haswell) retires 32 flop/cycle, about 78 GFLOP/s at 2.45 GHz, but its memory
// system delivers only a few bytes per cycle, so its ridge point (Module 00 measured yours) is
// a few to a few tens of flop/byte: a matmul *can* run at the arithmetic peak. Whether it does
// depends on how many times each byte actually travels, which is what the loop structure
// decides:
//
// | rung | bytes moved from beyond L2 (square n) | AI at n = 1024 |
// |---|---|---|
// | naive (i-j-p) | one 64-byte line per multiply-add: 64·n³ | 1/32 ≈ 0.03 |
// | interchange (i-k-j) | all of B once per row of C: 4·n³ | ≈ 0.5 |
// | blocked (MB, KB, NB) | 4·(3n² + n²·⌈n/MB⌉) | n/22 ≈ 46 (MB = 128) |
// | packed (MC, KC, NC) | 4·(n²·⌈n/NC⌉ + n² + 2n²·⌈n/KC⌉) | n/20 ≈ 51 (KC = 256, NC ≥ n) |
//
// The blocked and packed rows count A, B and C separately: a block that stays in cache while it
// is reused is fetched once per trip of the loops around it. The packed rung reads and writes C
// once per k-block (KC), because each k-block adds a partial sum into it; the blocked rung keeps
// its MB×n block of C in L2 across all k, so C crosses beyond L2 once (read and written).
//
// ### Why the naive loop is memory-bound
// The naive inner loop `sum += A[i][p] * B[p][j]` walks A along a row (fine) but B **down a
// column**: consecutive p are ldb floats apart, 4096 bytes at n = 1024. Every step touches a new
// 64-byte line and uses 4 bytes of it. The neighbouring column j+1 would reuse that line, but
// only if it survives the k = 1024 other lines (64 KiB) touched in between, and the L1 holds
// 32 KiB. It is worse than that: addresses 4 KiB apart fall into the *same set* of a 32 KiB
// 8-way L1 (64 sets × 64 B repeat every 4 KiB), so only 8 of those 1024 lines are kept; in a
// 512 KiB 8-way L2 (the pattern repeats every 64 KiB) they share 16 sets, 128 lines. So nearly
// every load of B comes from L3: 64 bytes for 2 flops, 64 GiB of traffic for 2.15 GFLOP.
// (An example, measured on a Zen 3 VM: 0.19 GFLOP/s at n = 1024 against 0.64 at n = 1000,
// where the same loop does not alias; this lesson prints the machine's own cache sizes first,
// so redo the set arithmetic for yours.) There is a second limit too: `sum` is one serial
// chain of dependent adds, so even from L1 the loop does one add per FP-add latency (3 cycles
// on many cores): 2 flops per 3 cycles, about 1.6 GFLOP/s at 2.45 GHz, 1/48 of the peak.

// %% [markdown]
// ### The checks every rung must pass
// `kl_lesson_check_matmul(variant, m, n, k)` runs the rung on seeded random inputs with
// alpha = 1, beta = 0.5 and compares with the float64 oracle: the error at each element must be
// within `2·(k+2)·u·(|alpha|·(|A||B|)ij + |beta|·|C0ij|)`, u = 2⁻²⁴ (the classic k·u bound of a
// dot product, doubled so any summation order passes). The shapes are chosen to break tiling:
// 1 (every loop runs once), primes (nothing divides evenly), and one past every tile edge the
// rung reports through the registry's `blocking` function. `check_beta_zero` fills C with NaN
// and asks for beta = 0: the contract says C is then not read, so a NaN that leaks through is
// a bug (`0·NaN` is NaN). Values are small integers, so the exact answer is known in float.

// %% [code]
static const kl_variant *matmul_rung(const char *name) {
    return kl_variant_find(KL_OP_MATMUL, name);
}


/* beta = 0 with C full of NaN: C must be overwritten, never read. Integer-valued inputs keep
 * every partial sum exact, so the result must match exactly in any summation order. */
static int check_beta_zero(const char *name, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k) {
    float *A = malloc(sizeof(float) * (size_t)(m * k));
    float *B = malloc(sizeof(float) * (size_t)(k * n));
    float *C = malloc(sizeof(float) * (size_t)(m * n));
    int fail = 0;
    if (!A || !B || !C) {
        fail = KL_FAIL("out of memory");
        goto done;
    }
    for (ptrdiff_t i = 0; i < m * k; i++) A[i] = (float)(i % 5 - 2);
    for (ptrdiff_t i = 0; i < k * n; i++) B[i] = (float)(i % 7 - 3);
    for (ptrdiff_t i = 0; i < m * n; i++) C[i] = NAN;
    kl_stub_reset();
    kl_status s = kl_matmul_variant(name, m, n, k, 2.0f, A, k, B, n, 0.0f, C, n);
    if (kl_lesson_report(KL_OP_MATMUL, name, s)) {
        fail = 1;
        goto done;
    }
    for (ptrdiff_t i = 0; i < m && !fail; i++)
        for (ptrdiff_t j = 0; j < n && !fail; j++) {
            double want = 0.0;
            for (ptrdiff_t p = 0; p < k; p++) want += (double)A[i * k + p] * B[p * n + j];
            want *= 2.0;
            if (isnan(C[i * n + j]))
                fail = KL_FAIL("matmul/%s m=%td n=%td k=%td: beta=0 read C (NaN at [%td][%td])",
                               name, m, n, k, i, j);
            else if ((double)C[i * n + j] != want)
                fail = KL_FAIL("matmul/%s m=%td n=%td k=%td beta=0: C[%td][%td] = %g, want %g",
                               name, m, n, k, i, j, (double)C[i * n + j], want);
        }
done:
    free(A);
    free(B);
    free(C);
    return fail;
}

/* Small awkward shapes every rung must get right. Stops at the first failure. */
static int check_shapes(const char *name) {
    static const ptrdiff_t shapes[][3] = {
        {1, 1, 1}, {1, 13, 7}, {13, 1, 7}, {7, 13, 1}, {17, 13, 31}, {61, 67, 71}};
    if (!matmul_rung(name)) return KL_FAIL("matmul/%s is not in the registry", name);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        if (kl_lesson_check_matmul(name, shapes[s][0], shapes[s][1], shapes[s][2])) return 1;
    return check_beta_zero(name, 5, 19, 3);
}

/* One past every tile edge the rung reports, in each dimension in turn: a fringe in m, then n,
 * then k. The other two dimensions stay small primes, so this is cheap even for NC in the
 * thousands. */
static int check_tile_edges(const char *name) {
    const kl_variant *v = matmul_rung(name);
    ptrdiff_t edges[8];
    size_t count = v && v->blocking ? v->blocking(edges, 8) : 0;
    for (size_t e = 0; e < count && e < 8; e++) {
        const ptrdiff_t x = edges[e] + 1;
        if (kl_lesson_check_matmul(name, x, 5, 3) || kl_lesson_check_matmul(name, 3, x, 5) ||
            kl_lesson_check_matmul(name, 5, 3, x))
            return 1;
    }
    return 0;
}

/* The SIMD rungs multiply small problems straight from A and B (no packing): AVX2 while A and B
 * fit in half of L2, AVX-512 while A with a 32-column sliver of B fits in L2. This shape is just
 * too big for either, so the packed path, its fringes (97 = 16·6+1 rows, 131 columns) and its
 * beta handling across k-blocks are exercised too. */
static int check_packed_path(const char *name) {
    const ptrdiff_t m = 97, n = 131;
    const ptrdiff_t k = (ptrdiff_t)(kl_cpu_cache_bytes(2) / (sizeof(float) * (m + 32))) + 3;
    return kl_lesson_check_matmul(name, m, n, k) || check_beta_zero(name, m, n, k);
}

// %% [markdown]
// ## Rung 1: naive (i-j-p)
// The definition, written as three loops: for each C[i][j], a dot product of row i of A with
// column j of B. Correct, short, and (see Foundations) bound by memory latency: the inner loop
// strides down B. `beta == 0` must not read C, so the store is a select, not `beta * C`.

// %% [code] {"kernel": "kernels/matmul/naive.c", "grade_id": "matmul_naive", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/naive.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the naive rung
// The naive rung is the reference point for every speedup in this module, so it must be right
// on the awkward shapes, and leave NaN in C unread when beta = 0.

// %% [code] {"grade_id": "test_matmul_naive", "points": 1, "locked": true}
static int test_matmul_naive(void) { return check_shapes("naive"); }

// %% [markdown]
// ## Rung 2: interchange (i-k-j)
// Same three loops, two swapped: for each row i and each p, add `alpha·A[i][p]` times row p of B
// into row i of C. The inner loop now walks B and C along rows with unit stride: each 64-byte
// line brings 16 useful floats, the prefetcher sees two plain streams, and the row of C stays in
// L1 for the whole p loop. There is no serial `sum` chain any more: each C[i][j] is an
// independent accumulator. The price is that C is read and written k times, so C is scaled by
// beta first (beta = 0 writes zeros without reading C) and then only accumulated into.
//
// The file records what gcc's auto-vectoriser does with that inner loop
// (`-fopt-info-vec-all`): at `-O2`, this project's default, gcc 12 runs the vectoriser with its
// "very-cheap" cost model and refuses the loop, because it would need a runtime alias check
// between the C row and the B row plus a scalar epilogue for `n % 4`. At `-O3` it vectorises
// with 16-byte SSE vectors (4 floats, `mulps` + `addps`), guarded by a runtime overlap check
// ("loop versioned for vectorization because of possible aliasing"). Even with `-mavx2 -mfma`
// it uses 8-float vectors but never fuses the multiply-add: `-std=c11` implies
// `-ffp-contract=off`. Hand-written SIMD comes in rung 5.

// %% [code] {"kernel": "kernels/matmul/interchange.c", "grade_id": "matmul_interchange", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/interchange.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the interchange rung
// The shapes include k = 1 (the p loop runs once, so the beta scaling must be right on its own)
// and n = 1 (a one-float "row"). The beta = 0 check catches a kernel that scales C with
// `beta * C` (NaN · 0 = NaN) instead of writing zeros.

// %% [code] {"grade_id": "test_matmul_interchange", "points": 2, "locked": true}
static int test_matmul_interchange(void) {
    int fail = check_shapes("interchange");
    /* BEGIN HIDDEN TESTS */
    if (!fail) fail = kl_lesson_check_matmul("interchange", 2, 257, 129);
    /* END HIDDEN TESTS */
    return fail;
}

// %% [markdown]
// ## Rung 3: blocked (tiles for L1 and L2, four rows of B per pass)
// The interchange rung does three memory operations (load b, load c, store c) per multiply-add,
// and streams all of B once per row of C: for a large B, every row re-reads 4 MiB from L3. This
// rung changes two things. Each pass over a row segment of C adds **four** rows of B at once,
//
// ```
// c[j] += a0·b0[j] + a1·b1[j] + a2·b2[j] + a3·b3[j]     six memory operations per four multiply-adds
// ```
//
// and the loops are split into tiles, so what a pass reads is still in a near cache:
//
// ```
// for ic in steps of MB          for pc in steps of KB          for jc in steps of NB
//   C[ic.., jc..] += alpha · A[ic.., pc..] · B[pc.., jc..]      (four rows of B per pass over C)
// ```
//
// The KB×NB slab of B is reused by all MB rows, so it should sit in **L1**; every slab updates
// the same MB×NB block of C, so that should sit in **L2**. The rule in `blocked.c`: KB = 4 (the
// rows one pass applies), NB = the largest multiple of 16 floats (a cache line) with KB·NB·4 ≤
// L1/2, and MB = the largest multiple of 16 with MB·NB·4 ≤ L2/2 (half of each cache for the
// tile, the rest for the other operands). For example, with a 32 KiB L1 and a 1 MiB L2: a 4 ×
// 1024 slab (16 KiB), MB = 128; the test below prints the edges this machine gets.
// `KL_BLOCKED_MB/KB/NB` override each edge, and the registry's `blocking` function reports the
// edges actually in use, so tests (here and in `tests/`) can aim one past them. The rung
// allocates nothing.
//
// Why a thin slab and not a square 64×64 tile: the tile's rows are ldb floats apart. When ldb·4
// is a multiple of 4 KiB (n = 1024, 2048), every row lands in the same few L1 sets, and a set
// holds only as many lines as the cache has ways (8 on most x86 cores). A 64-row tile then evicts
// itself long before it is full, and that rung loses to interchange; four rows fit in half the
// ways whatever ldb is. Try `KL_BLOCKED_KB=64 KL_BLOCKED_NB=64` and look at n = 1024 in the
// ladder.

// %% [code] {"kernel": "kernels/matmul/blocked.c", "grade_id": "matmul_blocked", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/blocked.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the blocked rung
// Beyond the small shapes: one past each of MB, KB, NB in each dimension (a fringe tile in every
// loop), and a shape that crosses all three edges at once.

// %% [code] {"grade_id": "test_matmul_blocked", "points": 3, "locked": true}
static int test_matmul_blocked(void) {
    if (check_shapes("blocked") || check_tile_edges("blocked")) return 1;
    ptrdiff_t e[3] = {0, 0, 0};
    const kl_variant *v = matmul_rung("blocked");
    if (!v->blocking || v->blocking(e, 3) != 3)
        return KL_FAIL("matmul/blocked must report its tile edges MB, KB, NB");
    int fail = kl_lesson_check_matmul("blocked", e[0] + 1, e[2] + 1, e[1] + 1);
    /* BEGIN HIDDEN TESTS */
    if (!fail && e[0] > 1 && e[1] > 1 && e[2] > 1)
        fail = kl_lesson_check_matmul("blocked", e[0] - 1, e[2] - 1, e[1] - 1);
    /* END HIDDEN TESTS */
    return fail;
}

// %% [markdown]
// ## Rung 4: packed (the Goto/BLIS five loops, plain-C micro-kernel)
// The last plain-C rung restructures everything around a tiny **micro-kernel** that computes an
// MR×NR tile of C, here 4×8, keeping all 32 sums in registers (eight 4-float vectors) for the
// whole k loop. Each step of k reads MR values of A and NR values of B and does MR·NR
// multiply-adds, so a value loaded from L1 is used NR (or MR) times instead of once. Five
// loops around it (`kernels/matmul/gemm.c`, shared by every packed rung) decide which cache
// each operand lives in:
//
// ```
// for jc in n by NC:                  5th loop: a KC×NC panel of B, packed once (L3)
//   for pc in k by KC:                4th loop: pack B[pc.., jc..] into Bp
//     for ic in m by MC:              3rd loop: pack A[ic.., pc..] into Ap, MC×KC (L2)
//       for jr in NC by NR:           2nd loop: a KC×NR sliver of Bp (L1)
//         for ir in MC by MR:         1st loop: a KC×MR micro-panel of Ap (streams from L2)
//           micro-kernel: C[ir.., jr..] (MR×NR) = alpha·Ap·Bp + beta'·C
// ```
//
// **Packing** copies the block of A (and the panel of B) into the exact order the micro-kernel
// reads it: micro-panels of MR rows stored column by column, slivers of NR columns stored row
// by row, 64-byte aligned. The micro-kernel then reads two contiguous arrays, whatever lda and
// ldb are: no conflict misses at n = 1024, no TLB misses, and the copy costs O(mk + kn) against
// O(mnk) arithmetic. **Block sizes** (`kernels/matmul/blocking.c`) come from the cache
// geometry: KC so the KC×NR sliver of B stays in L1, MC so the MC×KC block of A stays in L2,
// NC so the KC×NC panel of B stays in L3 (how, after the tests below). **beta** is applied on the first
// KC block only (beta' = 1 afterwards, the later blocks accumulate). **Fringes**: packed panels
// are zero-padded past m and n, so a partial tile runs the same micro-kernel and writes back
// only its valid mr×nr corner; blocks are evened out so none is a sliver, and MC blocks are cut
// at MR-row micro-panels (m = 257 with MC = 252 runs blocks of 126 and 131 rows rather than
// 252 + 5). The scratch (Ap and Bp) is one aligned
// allocation per call, freed before return; its size is in the memory-profiling section.
//
// The micro-kernel is plain C for the baseline x86-64 target, whose SIMD is SSE: 4-float
// registers, 16 of them, no FMA, and no way to load one float into all four lanes. Written with
// scalars (`ab[i][j] += a[i] * b[j]`), gcc does vectorise it, but every a[i] then needs a
// shuffle to fill a register, and the shuffles compete with the multiplies and adds for the
// same execution ports: that kernel was no faster than the blocked rung. So this rung's packing
// stores each element of A four times over (`pack_a_bcast` in `packed.c`; the kernel says so
// with `a_bcast = 4`, and the blocking model gives its 4× larger A block a 4× smaller MC), and
// the kernel multiplies whole 4-float vectors (`f32x4`, a GCC/Clang vector type, still plain C):
// one load of A, one of B, a multiply and an add, nothing else. Packing is where a micro-kernel
// gets its data in whatever form is cheapest to read; BLIS's packing can broadcast the same way.

// ### What you write for the packed rungs
// The driver in `kernels/matmul/gemm.c` is yours, and every packed rung (packed, avx2, avx512,
// openmp) runs it, so write it first, in this order:
//
// 1. `pack_a_mr` and `pack_b_nr`: the packing routines (the layouts are in `gemm.h`); their
//    test comes right below.
// 2. `macro_kernel`: loops 2 and 1, calling the micro-kernel on every MR×NR tile of one
//    MC×NC block of C, the valid corner `mr`×`nr` at the fringes, with the epilogue if any.
// 3. `gemm_team`: loops 5, 4 and 3 with the packing calls, beta on the first KC block only,
//    and (for the openmp rung) the team's share of the MC blocks and its barriers.
// 4. `kl_gemm_ep`: the entry that plans the blocks, allocates the scratch and runs the team.
//
// Then the 4×8 micro-kernel and its broadcasting `pack_a_bcast` in `packed.c`;
// `test_matmul_packed` checks all of it together.
// The AVX2 rung adds its own vectorised packing (`pack_a_6`, `pack_b_16` in `packed_avx2.c`)
// and both SIMD rungs a direct path for small problems.

// %% [code] {"kernel": "kernels/matmul/gemm.c", "grade_id": "matmul_gemm_driver", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/gemm.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the packing
// Before the macro-kernel can use them, the two packing routines must lay a block out exactly
// as the micro-kernel reads it (the contract in `gemm.h`): A's block as micro-panels
// `Ap[r][p][i] = A[r·MR + i][p]`, B's panel as slivers `Bp[s][p][j] = B[p][s·NR + j]`, with the
// rows (columns) past the edge of the block zero, so a fringe tile computes with zeros and
// stores only its valid corner. The test packs blocks with every fringe and checks each float.

// %% [code] {"grade_id": "test_matmul_packing", "points": 2, "locked": true}
static int test_matmul_packing(void) {
    enum { MC = 13, KC = 5, NC = 19, LDA = 7, LDB = 23 }; /* odd sizes: every fringe */
    static const ptrdiff_t mrs[] = {4, 6, 12}, nrs[] = {8, 16, 32};
    float A[MC * LDA], B[KC * LDB], Ap[16 * KC * 12], Bp[32 * KC * 32];
    for (int i = 0; i < MC * LDA; i++) A[i] = (float)(i + 1);
    for (int i = 0; i < KC * LDB; i++) B[i] = (float)(-i - 1);
    kl_stub_reset();
    for (size_t s = 0; s < sizeof mrs / sizeof mrs[0]; s++) {
        const ptrdiff_t mr = mrs[s], panels = (MC + mr - 1) / mr;
        for (size_t i = 0; i < sizeof Ap / sizeof Ap[0]; i++) Ap[i] = NAN;
        kl_gemm_pack_a(mr, MC, KC, A, LDA, Ap);
        if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
        for (ptrdiff_t r = 0; r < panels; r++)
            for (ptrdiff_t p = 0; p < KC; p++)
                for (ptrdiff_t i = 0; i < mr; i++) {
                    ptrdiff_t row = r * mr + i;
                    float want = row < MC ? A[row * LDA + p] : 0.0f, got = Ap[(r * KC + p) * mr + i];
                    if (!(got == want))
                        return KL_FAIL("kl_gemm_pack_a(mr=%td): Ap[panel %td][p %td][i %td] = %g, "
                                       "expected A[%td][%td] = %g (edit kernels/matmul/gemm.c)",
                                       mr, r, p, i, (double)got, row, p, (double)want);
                }
        const ptrdiff_t nr = nrs[s], slivers = (NC + nr - 1) / nr;
        for (size_t i = 0; i < sizeof Bp / sizeof Bp[0]; i++) Bp[i] = NAN;
        kl_gemm_pack_b(nr, KC, NC, B, LDB, Bp);
        if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
        for (ptrdiff_t q = 0; q < slivers; q++)
            for (ptrdiff_t p = 0; p < KC; p++)
                for (ptrdiff_t j = 0; j < nr; j++) {
                    ptrdiff_t col = q * nr + j;
                    float want = col < NC ? B[p * LDB + col] : 0.0f, got = Bp[(q * KC + p) * nr + j];
                    if (!(got == want))
                        return KL_FAIL("kl_gemm_pack_b(nr=%td): Bp[sliver %td][p %td][j %td] = %g, "
                                       "expected B[%td][%td] = %g (edit kernels/matmul/gemm.c)",
                                       nr, q, p, j, (double)got, p, col, (double)want);
                }
    }
    printf("    pack_a (MR = 4, 6, 12) and pack_b (NR = 8, 16, 32) lay out %dx%d and %dx%d blocks as "
           "the micro-kernels read them\n", MC, KC, KC, NC);
    return 0;
}

// %% [markdown]
// ### The 4×8 micro-kernel

// %% [code] {"kernel": "kernels/matmul/packed.c", "grade_id": "matmul_packed", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/packed.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the packed rung
// One past each of MR, NR, MC, KC, NC in each dimension: a fringe micro-tile, a fringe block,
// and a second KC block (which must accumulate, not overwrite). The packed-path shape has a
// k larger than KC on most machines, with beta = 0.5 and with NaN and beta = 0.

// %% [code] {"grade_id": "test_matmul_packed", "points": 3, "locked": true}
static int test_matmul_packed(void) {
    return check_shapes("packed") || check_tile_edges("packed") || check_packed_path("packed");
}

// %% [markdown]
// ### Block sizes from the cache geometry
// MC, KC and NC are not constants: `kernels/matmul/blocking.c` derives them from each cache
// level's size, associativity and line, after Low et al., "Analytical Modeling Is Enough for
// High-Performance BLIS" (ACM TOMS, 2016). A W-way cache of S bytes is W **ways** of S/W bytes;
// a contiguous array of X bytes fills ceil(X / (S/W)) ways of every set it touches, and LRU
// evicts a whole way's worth at a time. So each level is shared out in ways:
// - **KC** (L1): the KC×NR micro-panel of B stays while MR×KC micro-panels of A stream past
//   from L2 (the micro-kernel prefetches A a few steps ahead): ways(B) ≤ W1 − 1, the spare way
//   for the A stream and the C tile, KC as large as fits. (Low et al. keep all of A's
//   micro-panel in L1 too; for 32-wide float tiles that halves KC and measured slower.)
// - **MC** (L2): the MC×KC block of A gets what is left after one way for C and the ways of the
//   B micro-panel passing through.
// - **NC** (L3): the KC×NC panel of B gets what is left after one way and the ways of A's block.
//
// Where a rung has several micro-kernel shapes (AVX-512: 12×32 and 14×32), the model keeps the
// one that moves the fewest L1 bytes per flop: per k step MR + NR floats for 2·MR·NR flops, plus
// the C tile read and written once per KC. A taller tile loads less per flop, but its larger A
// micro-panel leaves less room for KC. `scripts/tune` can search around this point and store a
// faster one for this CPU; `KL_MATMUL_MC/KC/NC/SHAPE` override both. The cell prints this
// machine's geometry, the arithmetic for the blocking that runs, and where it came from.

// %% [code] {"grade_id": "blocking_model", "points": 0}
static ptrdiff_t ways_of(int level, double bytes) {
    double way = (double)kl_cpu_cache_bytes(level) / kl_cpu_cache_ways(level);
    return (ptrdiff_t)ceil(bytes / way);
}

static int blocking_model(void) {
    for (int l = 1; l <= 3; l++)
        printf("    L%d: %zu KiB, %d-way, %d-byte lines: a way is %zu bytes (%s)\n", l,
               kl_cpu_cache_bytes(l) >> 10, kl_cpu_cache_ways(l), kl_cpu_cache_line(l),
               kl_cpu_cache_bytes(l) / (size_t)kl_cpu_cache_ways(l), kl_cpu_cache_source(l));
    ptrdiff_t b[6];
    if (kl_matmul_blocking(b, 6) != KL_OK) return 1;
    const ptrdiff_t mr = b[0], nr = b[1], mc = b[2], kc = b[3], nc = b[4], f = sizeof(float);
    const ptrdiff_t copies = b[5]; /* a broadcast-packed A stores each element this often */
    printf("    micro-kernel %tdx%td; KC = %td: B micro-panel %td B = %td ways, A micro-panel %td B"
           " = %td ways of L1 (of %d)\n", mr, nr, kc, kc * nr * f, ways_of(1, (double)(kc * nr * f)),
           kc * mr * copies * f, ways_of(1, (double)(kc * mr * copies * f)), kl_cpu_cache_ways(1));
    printf("    MC = %td: A block %td B = %td ways of L2 (of %d)\n", mc, mc * kc * copies * f,
           ways_of(2, (double)(mc * kc * copies * f)), kl_cpu_cache_ways(2));
    printf("    NC = %td: B panel %.1f MiB = %td ways of L3 (of %d; the model caps L3 at 64 MiB)\n",
           nc, (double)(kc * nc * f) / (1 << 20), ways_of(3, (double)(kc * nc * f)),
           kl_cpu_cache_ways(3));
    printf("    this blocking came from the %s (%s)\n", kl_matmul_blocking_source(),
           kl_matmul_blocking_detail());
    printf("    the direct path's budget: %zu KiB, from the %s\n", kl_matmul_direct_bytes() >> 10,
           kl_matmul_direct_source());
    return 0; /* printing never fails a lesson */
}

// %% [markdown]
// ## Rung 5a: AVX2 + FMA micro-kernel (6×16)
// Same driver, a micro-kernel written with intrinsics (`packed_avx2.c`). A Haswell- or
// Zen-class core retires two 8-wide FMAs per cycle, each with a 4-cycle latency, so at
// least 2·4 = 8 independent accumulators must be in flight to keep both FMA pipes busy. A 6×16
// tile holds 12 ymm accumulators (6 rows × 2 registers of 8), plus 2 registers for a row of B
// and 1 for the broadcast element of A: 15 of the 16 ymm registers. Per k step: 2 loads of B,
// 6 broadcasts of A, 12 FMAs (6 cycles at 2 per cycle). Three details in the file matter as
// much as the tile shape: the accumulators are twelve named variables, because gcc keeps an
// array indexed inside a loop on the stack (a store per FMA); the kernel prefetches the C tile
// before the k loop and A's micro-panel 96 floats ahead; and packing is vectorised too (A's
// 6-row panels transposed 8 columns at a time in registers, B's slivers copied with two vector
// moves per row), because once the micro-kernel is fast, scalar packing loops become a
// visible share of the time at small n (measure it: `perf record` on the lesson binary).
// Fringe tiles use masked loads and stores for the columns (a fringe of at most 8 columns in
// the direct path runs a half-width tile) and skip rows past mr. For small problems, where A
// and B together fit in half of the direct budget (L2, unless `scripts/tune` timed another
// edge; gemm.h), the rung skips packing and runs the same 6×16 tile straight from A and B (the
// "direct path"): there, packing would only add a copy. This is the first
// rung that can approach the core's peak (32 flop/cycle).

// %% [code] {"kernel": "kernels/matmul/packed_avx2.c", "grade_id": "matmul_avx2", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/packed_avx2.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX2 rung
// The small shapes take the direct path; `check_packed_path` forces the packed one. On a CPU
// without AVX2 and FMA the registry marks this rung unavailable and the test prints
// `SKIP: CPU lacks avx2` and passes.

// %% [code] {"grade_id": "test_matmul_avx2", "points": 3, "locked": true}
static int test_matmul_avx2(void) {
    if (kl_lesson_skip_rung(KL_OP_MATMUL, "avx2", 1)) return 0;
    return check_shapes("avx2") || check_tile_edges("avx2") || check_packed_path("avx2");
}

// %% [markdown]
// ## Rung 5b: AVX-512 micro-kernel (12×32)
// `packed_avx512.c` is the AVX2 file with 16-wide zmm registers: a 12×32 tile holds 24
// accumulators + 2 for B + 1 broadcast = 27 of the 32 zmm registers; per k step 2 loads, 12
// broadcasts, 24 FMAs. Fringes use AVX-512 write masks. Its direct path reaches further than
// AVX2's: it re-reads all of A for each 32-column sliver of B, so it pays while A with one
// sliver fits in L2 (and B fits too), not only while A and B fit in half of it
// (`kl_matmul_direct_rule` in `gemm.c`; `KL_MATMUL_DIRECT=0` turns the direct path off, so you
// can time both sides: measured on a Zen 4, n = 257 to 460 ran 5–15% faster direct, an example,
// not a claim about your CPU). `scripts/tune` times both sides on your CPU and stores the
// budget (in place of L2) that ends the direct path where packing starts to win. The first line
// this lesson prints says whether your CPU has AVX-512 (F, BW, DQ, VL). If it does not, the
// registry reports the rung unavailable and the test prints `SKIP: CPU lacks avx512` and passes
// here; grading counts a rung its CPU cannot run as n/a, never as passed, so write it all the
// same. The openmp rung runs this micro-kernel where the CPU has AVX-512, so write it before
// openmp.

// %% [code] {"kernel": "kernels/matmul/packed_avx512.c", "grade_id": "matmul_avx512", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/packed_avx512.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX-512 rung

// %% [code] {"grade_id": "test_matmul_avx512", "points": 2, "locked": true}
static int test_matmul_avx512(void) {
    if (kl_lesson_skip_rung(KL_OP_MATMUL, "avx512", 1)) return 0; /* here: "SKIP: CPU lacks avx512" */
    return check_shapes("avx512") || check_tile_edges("avx512") || check_packed_path("avx512");
}

// %% [markdown]
// ## Rung 6: OpenMP (every core)
// `openmp.c` runs the five loops with an OpenMP team and the best micro-kernel the CPU has
// (AVX-512, else AVX2). Which loop to split? The **3rd loop (ic, over MC blocks of A)**: each
// thread packs and multiplies its own MC×KC block of A, which lives in *its own core's* L2,
// while all threads read the one KC×NC panel of B, which lives in the L3 *they share*. The
// threads pack that B panel together (each packs some of its slivers), meet at a barrier, and
// run their blocks. Panels alternate between two buffers, so that one barrier per panel also
// tells every thread that the others are done with the previous panel: a thread that finishes
// early packs its share of the next panel into the other buffer instead of waiting at a second
// barrier. On this shared VM, where other people's jobs preempt our threads, that measured
// 60 vs 54 GFLOP/s (medians at n = 1024, busy moments; the same when quiet). Splitting
// the 2nd loop (jr) instead would make every thread read the same A block, so it would be
// duplicated in every L2 and cost a barrier per MC block. (jr would balance better when m is
// small and n large, since ic hands out whole MR-row panels: m = 16 splits 12 + 4. On this
// shared VM two-thread timings of either split swung 5× between runs, so the choice rests on
// the cache argument, not on a measurement.) Each thread has its own Ap buffer, so scratch
// grows with the thread count (and a team has two B panels). The number of MC blocks is a
// multiple of the thread count and blocks are cut at micro-panels, so the threads' rows differ
// by at most MR and they reach the barrier together (fixed 174-row blocks gave 522 + 502 rows
// at m = 1024: one thread idle 4% of the time). Small problems (the AVX2 or AVX-512 rule
// above) skip packing and run the direct path: on one thread below 2·64³ flops, where
// starting a team costs more than the multiply, and above that on the team, each thread taking
// whole MR-row panels of C (or NR-column slivers when m is too short to split), so no two
// threads write the same tile. A thread of that team reads only its share of A's rows (and
// all of B) from its own L2, so the rule is asked of the share (`kl_matmul_team_direct_ok`,
// gemm.h). An example, on Zen 4 (AVX-512, 1 MiB of L2 per core): 512³ runs direct on two
// threads and packed on one. The rung honours `kl_set_num_threads()` and `OMP_NUM_THREADS`.

// %% [code] {"kernel": "kernels/matmul/openmp.c", "grade_id": "matmul_openmp", "points": 0, "solution": true}
// The implementation lives in kernels/matmul/openmp.c (and the team in kernels/matmul/gemm.c);
// scripts/render inlines them here.

// %% [markdown]
// ### Testing the OpenMP rung
// The same checks at 1 thread and at 2 threads (`kl_set_num_threads`), then the default is
// restored with `kl_set_num_threads(0)`. At 2 threads every path runs on the team: the
// packed-path shape has 17 MR-row panels of A, so both threads get MC blocks and both pack part
// of the B panel; 61×67×71 is a small problem split by rows; 5×203×301 is a small problem too
// short to split by rows, so the team splits its columns.

// %% [code] {"grade_id": "test_matmul_openmp", "points": 3, "locked": true}
static int test_matmul_openmp(void) {
    if (kl_lesson_skip_rung(KL_OP_MATMUL, "openmp", 1)) return 0;
    int fail = 0;
    for (int threads = 1; threads <= 2 && !fail; threads++) {
        if (kl_set_num_threads(threads) != KL_OK)
            fail = KL_FAIL("kl_set_num_threads(%d) failed", threads);
        else if (kl_get_num_threads() != threads)
            fail = KL_FAIL("kl_get_num_threads() = %d after setting %d", kl_get_num_threads(),
                           threads);
        else if (check_shapes("openmp") || check_tile_edges("openmp") ||
                 check_packed_path("openmp") || kl_lesson_check_matmul("openmp", 5, 203, 301))
            fail = KL_FAIL("matmul/openmp fails at %d thread%s", threads, threads > 1 ? "s" : "");
    }
    kl_set_num_threads(0);
    return fail;
}

// %% [markdown]
// ## Build → Measure → Understand: the whole ladder
// Every rung is built and tested; now measure them. `kl_lesson_median_seconds` runs a rung
// several times on the same inputs and returns the median (the machine is shared, so a mean
// would be dragged by other people's jobs). GFLOP/s = 2n³ / seconds. The cell also prints each
// rung's predicted arithmetic intensity at n = 1024, from the formulas in Part 1 and the block
// sizes the rung reports. It prints only: a time is never a pass/fail criterion here. In a
// sanitizer build (CI runs one) only n = 256 is measured: instrumented times mean little.

// %% [code] {"grade_id": "measure_ladder", "points": 0}
static double gflops(const char *name, ptrdiff_t n, int reps) {
    double s = kl_lesson_median_seconds("matmul", name, n, n, n, reps);
    return s > 0.0 ? 2.0 * (double)n * (double)n * (double)n / s * 1e-9 : NAN;
}

/* Flops per byte from beyond L2 at size n (square), from the Part 1 table. */
static double predicted_ai(const kl_variant *v, double n) {
    ptrdiff_t e[8];
    size_t count = v->blocking ? v->blocking(e, 8) : 0;
    const double flops = 2.0 * n * n * n, nn = n * n;
    if (strcmp(v->rung, "naive") == 0) return flops / (64.0 * n * n * n);
    if (count == 0) return flops / (4.0 * (n * n * n + 3.0 * nn)); /* interchange */
    if (count == 3) /* blocked: MB, KB, NB */
        return flops / (4.0 * (3.0 * nn + nn * ceil(n / (double)e[0])));
    if (count >= 5) /* packed: MR, NR, MC, KC, NC */
        return flops / (4.0 * (nn * ceil(n / (double)e[4]) + nn + 2.0 * nn * ceil(n / (double)e[3])));
    return NAN;
}

static void print_row(const char *label, const char *rung, double g_small, double naive,
                      double g_large, double ai) {
    char cols[3][16] = {"(not written)", "", "(skipped)"}; /* a stub or a failing call has no speed */
    if (!isnan(g_small)) snprintf(cols[0], sizeof cols[0], "%.2f", g_small);
    if (!isnan(g_small / naive)) snprintf(cols[1], sizeof cols[1], "%.1f", g_small / naive);
    if (!isnan(g_large)) snprintf(cols[2], sizeof cols[2], "%.2f", g_large);
    printf("    %-14s %-12s %10s %9s %11s %12.2f\n", label, rung, cols[0], cols[1], cols[2], ai);
}

/* One rung's line of the ladder figure (GFLOP/s at n = 256 and 1024) and its roofline point. */
typedef struct { char label[32]; double small, large, ai; } ladder_row;

static void ladder_figures(const ladder_row *rows, int count, ptrdiff_t small, ptrdiff_t large) {
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json j = {0};
    kl_json_add(&j, "{\"kind\": \"lines\", \"title\": \"The matmul ladder: GFLOP/s by rung and n\", "
                "\"machine\": \"%s\", \"xlabel\": \"n (square matrices)\", \"ylabel\": \"GFLOP/s\", "
                "\"xlog\": true, \"ylog\": true, \"series\": [", machine);
    for (int r = 0; r < count; r++) {
        kl_json_add(&j, "%s{\"label\": \"%s\", \"x\": [%td, %td], \"y\": [", r ? ", " : "",
                    rows[r].label, small, large);
        kl_json_num(&j, rows[r].small);
        kl_json_add(&j, ", ");
        kl_json_num(&j, rows[r].large);
        kl_json_add(&j, "]}");
    }
    kl_json_add(&j, "]}");
    kl_lesson_figure("ladder", &j);
    /* The roofs come from lesson 00's measurements (plot.py reads "roofs_from"). */
    kl_json_add(&j, "{\"kind\": \"roofline\", \"title\": \"Matmul rungs at n = %td on the roofline "
                "(predicted intensity from beyond L2)\", \"machine\": \"%s\", "
                "\"roofs_from\": \"../../00_roofline/results/roofline.json\", \"points\": [", large, machine);
    for (int r = 0, first = 1; r < count; r++) {
        if (!(rows[r].large > 0) || !(rows[r].ai > 0)) continue;
        kl_json_add(&j, "%s{\"label\": \"%s\", \"intensity\": ", first ? "" : ", ", rows[r].label);
        kl_json_num(&j, rows[r].ai);
        kl_json_add(&j, ", \"gflops\": ");
        kl_json_num(&j, rows[r].large);
        kl_json_add(&j, "}");
        first = 0;
    }
    kl_json_add(&j, "]}");
    kl_lesson_figure("roofline", &j);
}

static int measure_ladder(void) {
    const ptrdiff_t small = 256, large = 1024;
#ifdef __SANITIZE_ADDRESS__
    const int measure_large = 0; /* sanitizer build: times mean little, and n = 1024 is slow */
#else
    const int measure_large = 1;
#endif
    double naive = NAN;
    ladder_row rows[32];
    int nrows = 0;
    printf("    %-14s %-12s %10s %9s %11s %12s\n", "variant", "rung", "n=256", "x naive",
           "n=1024", "AI n=1024");
    printf("    %-14s %-12s %10s %9s %11s %12s\n", "", "", "GFLOP/s", "", "GFLOP/s",
           "(predicted)");
    for (size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_MATMUL) continue;
        if (!kl_variant_available(v)) {
            printf("    %-14s %-12s %10s\n", v->name, v->rung, "(CPU lacks it)");
            continue;
        }
        const int is_naive = strcmp(v->rung, "naive") == 0;
        double g_small = gflops(v->name, small, 5);
        if (is_naive) naive = g_small;
        /* naive takes ~10 s at n = 1024 (see Part 1): not worth repeating on every run */
        double g_large = is_naive || !measure_large || isnan(g_small) ? NAN : gflops(v->name, large, 3);
        double ai = predicted_ai(v, (double)large);
        print_row(v->name, v->rung, g_small, naive, g_large, ai);
        if (nrows < 32) {
            ladder_row *row = &rows[nrows++];
            snprintf(row->label, sizeof row->label, "%s", v->name);
            row->small = g_small, row->large = g_large, row->ai = ai;
        }
        if (v->threaded && kl_get_num_threads() > 1 && !isnan(g_small)) { /* the same rung on one core */
            kl_set_num_threads(1);
            g_small = gflops(v->name, small, 5);
            g_large = measure_large ? gflops(v->name, large, 3) : NAN;
            kl_set_num_threads(0);
            char label[32];
            snprintf(label, sizeof label, "%.9s (1 thr)", v->name);
            print_row(label, v->rung, g_small, naive, g_large, ai);
            if (nrows < 32) {
                ladder_row *row = &rows[nrows++];
                snprintf(row->label, sizeof row->label, "%s", label);
                row->small = g_small, row->large = g_large, row->ai = ai;
            }
        }
    }
    printf("    threaded rungs ran %d threads; medians on a shared machine: compare, don't quote\n",
           kl_get_num_threads());
    const char *isa = kl_isa_name(kl_cpu_isa());
    double peak = kl_lesson_peak_gflops(isa), best = 0;
    for (int r = 0; r < nrows; r++)
        if (rows[r].small > best) best = rows[r].small;
    if (peak > 0)
        printf("    1-thread %s FMA peak (lesson 00, this machine): %.1f GFLOP/s; the fastest rung "
               "above reached %.0f%% of it (threaded rungs can exceed 100%%)\n", isa, peak, 100 * best / peak);
    else
        printf("    (run lesson 00 to see these as %% of this machine's FMA peak)\n");
    ladder_figures(rows, nrows, small, large);
    return 0; /* measuring never fails a lesson */
}

// %% [markdown]
// ### Understand
// Read the table this cell printed and `results/ladder.png` (GFLOP/s by rung at n = 256 and
// 1024) and `results/roofline.png` (each rung at n = 1024 placed at its predicted intensity
// under the roofs lesson 00 measured; run lesson 00 first). A shared machine can move a single
// number by 2× or more: compare rows within one run, don't quote them. What to look for, rung
// by rung (the figures in parentheses are an example from a 2-core Zen 3 VM, not a target):
//
// - **naive** stays under the serial add-chain bound (≈1.6 GFLOP/s) even at n = 256, where all
//   of B (256 KiB) fits in L2; at n = 1024 the column walk misses to L3 and it collapses.
// - **interchange** removes the collapse (unit stride), but its scalar inner loop (gcc -O2 does
//   not vectorise it) does about one element per cycle, and that, not memory, is its limit.
// - **blocked** beats interchange (1.5× at n = 1024 on a 2-core Zen 4 VM, an example): half the
//   memory operations per multiply-add, and a slab of B that stays in L1 whatever ldb is.
//   Cutting traffic from L3 alone would not help a loop that is not waiting for L3 (set
//   `KL_BLOCKED_KB=1`: tiles without the four-row pass).
// - **packed** usually beats blocked with the same SSE instructions (up to 1.2-1.6× at
//   n = 1024 on a busy 2-core Zen 4 VM, an example; some runs had them level): its C tile
//   never leaves registers, and the broadcast packing leaves the kernel no shuffles. There is
//   no FMA below AVX2, so what packing buys shows fully in the next rung, where the same
//   structure feeds FMAs.
// - **avx2** then gains another 3-4×: 8 lanes, fused multiply-add, and 12 independent
//   accumulators hiding the FMA latency. On a quiet core it
//   comes close to the AVX2 FMA peak lesson 00 measured; lower n = 1024 figures usually mean
//   other jobs share the L3 and memory bus.
// - **openmp** on 2 threads was often *slower* than on 1: with the other core busy with someone
//   else's build, each barrier waits for a thread the OS has descheduled, and at n = 256 a whole
//   call (≈1 ms) is shorter than one scheduler time slice. On an idle machine 2 threads beat 1
//   (in the example, 107 against 45 GFLOP/s). Threads pay only when the cores are really yours.

// %% [markdown]
// ## Memory profiling
// What does a rung allocate? The lesson's own binary has a `--workload matmul VARIANT m n k`
// mode that allocates A (m×k), B (k×n), C and a copy C0 (m×n each), makes one call, and exits.
// `kl_lesson_massif_peak` runs that under Valgrind Massif and returns the peak heap bytes.
// The bound each rung must meet, at m = n = k = 176:
//
//     inputs    = 4·(m·k + k·n + 2·m·n)                 A, B, C, C0: 495,616 B at n = 176
//     scratch   = the rung's scratch_bytes(m, n, k, T)    0 for naive, interchange, blocked;
//               = T·round64(4·MCe·KCe·a_bcast) + round64(4·KCe·NCe)   for the packed rungs
//     allowance = 4 KiB + 1 KiB per thread
//     inputs < peak <= inputs + scratch + allowance
//
// MCe, KCe, NCe are the blocks one call really uses (the cache blocks, evened out and trimmed
// to the problem: at n = 176, KCe = NCe = 176), a_bcast the copies of each element of A the
// packing stores (4 for the plain-C rung, 1 for the SIMD ones) and T the threads that each
// pack their own A block (1 except for openmp). The **allowance** is for heap the rung does
// not own: the C and OpenMP runtimes' bookkeeping. Measured under Massif here: 8 bytes
// single-threaded, and for the openmp rung libgomp's thread-pool and team structures, about
// 2.3 KiB at 2 threads, 5.4 KiB at 8 and 9.6 KiB at 16 (roughly 1.2 KiB + 0.5 KiB per thread;
// thread stacks are mmap'd, not heap). The lower bound proves Massif saw the workload; the
// upper bound catches a rung that allocates more than it documents, or leaks a buffer per
// k-block.
//
// One trap: Valgrind runs the program on a synthetic CPU whose CPUID reports other cache
// sizes than the real ones (for example 256 KiB of L2 and 8 MiB of L3 instead of 512 KiB and
// 32 MiB), so blocks sized from the caches come out different under Massif (MC halves). The
// test therefore pins the blocks of this process into the child's environment
// (`KL_MATMUL_MC/KC/NC`), so the formula and the measurement describe the same call. It has no
// AVX-512 either, so where this process runs the AVX-512 direct rule the child would run
// AVX2's: the test also pins this process's choice (`KL_MATMUL_DIRECT_KIB` at its largest when
// the formula says the rung runs direct, 0 when it packs).
// Under AddressSanitizer (which Valgrind cannot run) or without valgrind, the test prints SKIP.

// %% [code] {"grade_id": "test_memory_packed", "points": 2, "locked": true}
enum { MASSIF_N = 176 };


/* Set (value != NULL) or remove an environment variable; returns its old value (heap copy). */
static char *swap_env(const char *name, const char *value) {
    const char *old = getenv(name);
    char *saved = NULL;
    if (old && (saved = malloc(strlen(old) + 1))) strcpy(saved, old);
    if (value) setenv(name, value, 1);
    else unsetenv(name);
    return saved;
}

/* Massif's peak for one call, with the packed rungs' cache blocks pinned (through the
 * environment the child inherits) to the ones this process uses, and the direct path on or
 * off as this process decides (direct: it predicts no scratch): Valgrind's synthetic CPUID
 * reports other cache sizes, which would change MC and NC, and so the scratch, and its child
 * runs AVX2's direct rule where this process may run AVX-512's. */
static long long massif_peak_pinned(const kl_variant *v, ptrdiff_t n, int direct) {
    static const char *const names[4] = {"KL_MATMUL_MC", "KL_MATMUL_KC", "KL_MATMUL_NC",
                                         "KL_MATMUL_DIRECT_KIB"};
    ptrdiff_t e[8];
    size_t count = v->blocking ? v->blocking(e, 8) : 0;
    char *saved[4] = {NULL, NULL, NULL, NULL};
    const int blocks = count == 5; /* MR, NR, MC, KC, NC: the five-loop rungs */
    e[5] = direct ? 1 << 20 : 0; /* KiB: every size direct, or none */
    for (int i = blocks ? 0 : 3; i < 4; i++) {
        char value[32];
        snprintf(value, sizeof value, "%td", e[2 + i]);
        saved[i] = swap_env(names[i], value);
    }
    long long peak = kl_lesson_massif_peak("matmul", v->name, n, n, n);
    for (int i = blocks ? 0 : 3; i < 4; i++) free(swap_env(names[i], saved[i])), free(saved[i]);
    return peak;
}

static int massif_within(const char *name, ptrdiff_t n) {
    const kl_variant *v = matmul_rung(name);
    if (!v) return KL_FAIL("matmul/%s is not in the registry", name);
    const size_t nn = (size_t)n * (size_t)n;
    const size_t inputs = sizeof(float) * (nn + nn + 2 * nn);
    const int threads = v->threaded ? kl_get_num_threads() : 1;
    const size_t scratch = v->scratch_bytes ? v->scratch_bytes(n, n, n, threads) : 0;
    const size_t allowance = 4096 + 1024 * (size_t)threads; /* runtime bookkeeping, see above */
    if (!kl_lesson_implemented("matmul", name, n, n, n)) return 1;
    const long long peak = massif_peak_pinned(v, n, scratch == 0);
    if (peak < 0) return KL_FAIL("matmul/%s: the Massif run failed (does the rung work?)", name);
    printf("    %-8s n=%td threads=%d: peak %lld B = inputs %zu + %lld (scratch formula %zu)\n",
           name, n, threads, peak, inputs, peak - (long long)inputs, scratch);
    if (peak <= (long long)inputs)
        return KL_FAIL("matmul/%s: peak %lld <= inputs %zu: Massif did not see the workload", name,
                       peak, inputs);
    if (peak > (long long)(inputs + scratch + allowance))
        return KL_FAIL("matmul/%s: peak %lld > inputs %zu + scratch %zu + allowance %zu", name,
                       peak, inputs, scratch, allowance);
    return 0;
}

static int test_memory_packed(void) {
    if (!kl_lesson_valgrind_usable()) {
        printf("    SKIP: valgrind is not installed, or this is a sanitizer build\n");
        return 0;
    }
    if (massif_within("naive", MASSIF_N) || massif_within("packed", MASSIF_N)) return 1;
    const kl_variant *omp = matmul_rung("openmp");
    if (omp && kl_variant_available(omp)) return massif_within("openmp", MASSIF_N);
    return 0;
}

// %% [markdown]
// ## Complexity
// - **Time**: O(m·n·k) flops, exactly 2·m·n·k, for every rung; the rungs differ only in how
//   fast they retire them. Packing adds O(m·k·⌈n/NC⌉ + k·n) copies, a vanishing fraction
//   (it is O(n²) against O(n³)).
// - **Memory**: O(m·k + k·n + m·n) for the operands, all the caller's. Scratch: none for
//   naive, interchange and blocked; for the packed rungs one aligned buffer of
//   T·round64(4·MCe·KCe·a_bcast) + round64(4·KCe·NCe) bytes, bounded by
//   4·(T·MC·KC·a_bcast + KC·NC) + 64·(T+1)
//   whatever the problem size: O(1) in m, n, k. With, for example, AVX2 6×16 blocks of KC =
//   256 and MC = 252, that is about 252 KiB per thread plus 1 KiB per column of the B panel.
// - **Arithmetic intensity** (square n, bytes beyond L2, from Part 1):
//   naive 1/32 (independent of n: one line per FMA); interchange ≈ 1/2;
//   blocked n / (2·(3 + n/MB)) → MB/2 for large n (MB = 128: 64);
//   packed n / (2·(n/NC + 1 + 2n/KC)) → KC/4 for large n when NC ≥ n (KC = 256: 64).
//   The register tile sets a second intensity, from L1 into registers:
//   2·MR·NR / (4·(MR + NR)) flop/byte, 0.17 for the i-k-j loop, 2.2 for 6×16, 4.6 for 12×32.
//   The bigger the blocks, the higher the intensity, until they no longer fit the cache they
//   were sized for: that trade-off is the whole of `blocking.c`.

// %% [markdown]
// ## Production context
// - **BLIS** (the baseline this project benchmarks against) is this module's packed rung,
//   industrialised: the same five loops and packing written once in portable C, with only the
//   MR×NR micro-kernel and the block sizes written per CPU, grouped into
//   "sub-configurations" (`haswell`, `zen3`, `skx`, ..., and a `generic` fallback) chosen at
//   run time. Its threading can split four of the five loops (jc, ic, jr, ir, set with
//   `BLIS_JC_NT`, `BLIS_IC_NT`, ...), not the k loop, whose iterations all update the same C.
// - **OpenBLAS** descends from Kazushige Goto's GotoBLAS, where the packing and blocking scheme
//   was introduced; its kernels are hand-written assembly per micro-architecture, and a
//   `DYNAMIC_ARCH` build picks one at run time.
// - **oneDNN** (Intel's deep-learning library, formerly MKL-DNN / DNNL) generates matmul and
//   convolution kernels just-in-time for the exact ISA and often the exact shape, including
//   bf16/int8 and AMX tiles on recent Xeons.
// - **PyTorch `nn.Linear`** stores its weight as W[out_features][in_features] and computes
//   y = x·Wᵀ + b. For a 2-D input with bias this is `torch.addmm(b, x, W.t())`; on CPU it goes
//   to ATen's `addmm` implementation, which calls `at::native::cpublas::gemm`. There, a build
//   linked with a BLAS (the x86-64 release builds use Intel MKL; others use OpenBLAS) calls
//   `sgemm`; some cases (bf16, or reduced-precision float32 on CPUs that allow it) go to
//   oneDNN; otherwise a native fallback kernel runs. `W.t()` is a view with swapped strides,
//   so the transpose is not a copy: it is passed to sgemm as a transpose flag, and the BLAS's
//   packing step absorbs it. BLAS is column-major; ATen maps row-major tensors onto it by
//   computing the transposed product (Cᵀ = Bᵀ·Aᵀ), which is why `kl_matmul` can take the
//   same row-major arguments as `bli_sgemm`.

// %% [code] {"grade_id": "run_all_tests", "points": 0, "locked": true}
int main(int argc, char **argv) {
    static const kl_lesson_test tests[] = {
        {"test_matmul_naive", 1, test_matmul_naive},
        {"test_matmul_interchange", 2, test_matmul_interchange},
        {"test_matmul_blocked", 3, test_matmul_blocked},
        {"test_matmul_packing", 2, test_matmul_packing},
        {"test_matmul_packed", 3, test_matmul_packed},
        {"blocking_model", 0, blocking_model},
        {"test_matmul_avx2", 3, test_matmul_avx2},
        {"test_matmul_avx512", 2, test_matmul_avx512},
        {"test_matmul_openmp", 3, test_matmul_openmp},
        {"measure_ladder", 0, measure_ladder},
        {"test_memory_packed", 2, test_memory_packed},
    };
    return kl_lesson_main(argc, argv, "01_matmul", tests, sizeof tests / sizeof tests[0]);
}

// %% [markdown]
// ## ML systems thinking
//
// Answer each question in the cell after it: a few sentences, with numbers this lesson
// measured on your machine. These answers are graded by hand (2 points each).
//
// 1. A transformer layer's feed-forward block multiplies a (batch·sequence) × 4096 activation
//    by a 4096 × 16384 weight. Compute its flops and its minimum bytes in float32 for a batch
//    of 1 token and of 2048 tokens. Which case is memory-bound on this machine, and what does
//    that say about why serving one request at a time is expensive?
// 2. The naive rung ran 3× slower at n = 1024 than at n = 1000. Explain why from the cache's set
//    structure, and name two production techniques that remove the effect (hint: one of them is
//    in this module; the other is how frameworks choose leading dimensions).
// 3. Your 6×16 micro-kernel needs 8 independent FMAs in flight. What happens to its speed with a
//    4×8 tile (4 ymm accumulators), and why does the answer depend on the FMA latency, not the
//    throughput alone?
// 4. The OpenMP rung splits the 3rd loop. On a 64-core server with 8 cores per L3 slice
//    (chiplet), what would you split instead or in addition, and which block would you size to
//    which cache?
// 5. `nn.Linear` passes `W.t()` to sgemm without copying. Where in the five loops is the
//    transpose actually paid for, and why is that cost negligible for a large batch but not for
//    a single token?
// 6. The packed rungs allocate a few hundred KiB of scratch per call. In an inference server
//    calling matmul thousands of times per second from many threads, what would you change
//    about that allocation, and how would you check the change with this module's Massif test?

// %% [markdown] {"grade_id": "answer_matmul_q1", "points": 2, "grade": true, "solution": true}
// **Answer 1** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_matmul_q2", "points": 2, "grade": true, "solution": true}
// **Answer 2** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_matmul_q3", "points": 2, "grade": true, "solution": true}
// **Answer 3** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_matmul_q4", "points": 2, "grade": true, "solution": true}
// **Answer 4** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_matmul_q5", "points": 2, "grade": true, "solution": true}
// **Answer 5** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_matmul_q6", "points": 2, "grade": true, "solution": true}
// **Answer 6** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown]
// ## Summary
// - A matmul is 2·m·n·k flops on 4·(m·k + k·n + 2·m·n) bytes: enough reuse to run at the
//   arithmetic peak, but only if the loop structure makes each byte travel few times.
// - **naive** walks B by column: one cache line per multiply-add, and a serial add chain.
// - **interchange** (i-k-j) makes the inner loop unit-stride over B and C; gcc vectorises it
//   only at -O3, with SSE and no FMA.
// - **blocked** keeps a four-row slab of B in L1 and a block of C in L2 (sizes from the cache
//   sizes) and adds four rows of B per pass over C; a square tile would thrash an 8-way L1 when
//   rows are 4 KiB apart.
// - **packed** is the Goto/BLIS structure: five loops NC → KC → MC → NR → MR around an MR×NR
//   micro-kernel, operands packed into contiguous panels, fringes zero-padded.
// - **AVX2/AVX-512** micro-kernels keep 12 or 24 vector accumulators busy with FMA; a rung the
//   CPU lacks is skipped, never run.
// - **OpenMP** splits the MC loop: private A blocks in private L2s, one shared packed B panel
//   in the shared L3, double-buffered so one barrier per panel suffices.
// - Tests use a float64 oracle with a k·u error bound, awkward shapes and NaN for beta = 0;
//   Massif checks that the heap peak matches the documented scratch formula; speed is printed,
//   never asserted.
