// %% [markdown]
// # Module 03: LayerNorm
//
// `y = (x - mean) · rstd · gamma + beta`, row by row: a reduction (mean and variance), then an
// elementwise pass that needs the reduction's result. Two things make it interesting on a CPU:
// the statistics need the whole row before the first output can be written, so the row is
// read more than once (the question is from where), and the variance is a numerically
// treacherous sum.
//
// **Learning objectives:**
// - Build six LayerNorm rungs (naive three-pass, one-pass Welford, row-blocked, AVX2, AVX-512,
//   OpenMP) that write mean and rstd for a backward pass, work in place, and follow the NaN
//   rule; test each against a float64 oracle with a tolerance relative to the row's scale.
// - Count passes over memory and bytes per element for each rung, and explain why keeping a
//   row (or a chunk of it) in L1 between passes turns a 3-read kernel into a 1-read one.
// - See catastrophic cancellation happen: compute the variance as E[x²] − E[x]² in float on
//   rows of 1e4 + unit noise and watch it fail the oracle; then explain why the shifted,
//   two-pass, Chan-merged statistics of the fast rungs pass.
// - Write vector horizontal reductions (float lanes folded into double) and masked tails.
// - Measure GB/s against a plain copy of the same bytes, and check with Massif that no rung
//   allocates.

// %% [code]
#define _POSIX_C_SOURCE 200809L /* clock_gettime, access */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "layernorm/ln_row.h" /* the statistics helpers, tested directly below */
#include "lesson.h"
#include "reference.h"

// %% [markdown]
// ## Part 1: Foundations
//
// ### The op
// For each row r of x[rows][cols]:
//
//     mean_r = Σ_c x[r][c] / cols
//     var_r  = Σ_c (x[r][c] − mean_r)² / cols          (biased, as PyTorch)
//     rstd_r = 1 / sqrt(var_r + eps)
//     y[r][c] = (x[r][c] − mean_r) · rstd_r · gamma[c] + beta[c]
//
// mean and rstd are written when the caller passes them (training keeps them for the backward
// pass); y may be x. **NaN rule** (`kernellab.h`): a NaN or Inf anywhere in a row makes that
// row's y all NaN; other rows are unaffected.
//
// ### Passes over memory, bytes per element
// About 8 flops per element (sum, subtract, square-accumulate, subtract, two multiplies, add)
// and at least 8 bytes (read x, write y; gamma and beta are cols floats, reused by every row):
// **about 1 flop/byte, still far left of the ridge**, so bandwidth is the roof again and
// `memcpy` of x into y is the yardstick. What differs between rungs is how many times x
// crosses the memory bus:
//
// | rung | passes over x | reads of x from memory (rows wider than L1) | bytes/element, large arrays |
// |---|---|---|---|
// | naive | mean, variance, output: 3 | 3 if the row is past L2, else 1 | 16 (12 + RFO of y), or 8 |
// | welford | statistics, output: 2 | 2 if the row is past L2, else 1 | as naive |
// | blocked | per L1 chunk: mean, variance; then output: 3 | 1 while the row fits L2 | 12 (x, y, RFO of y) |
// | avx2 / avx512 | statistics (one shifted pass), output: 2 | 1 while the row fits L2 | 8 with streaming stores |
//
// Rows up to 4096 floats (16 KiB) fit in L1/L2, so "3 passes" costs one trip to memory plus
// L1/L2 re-reads, *if* the row is processed to completion before moving on; the blocked rung
// also reads each 8 KiB chunk twice while it is in L1, so that both statistics passes hit L1.
// The SIMD rungs go further and take both sums in one pass (see Rung 4): once everything is
// in cache, every pass costs instructions, and instructions are what they run out of.
//
// ### Cancellation
// The textbook one-pass formula var = E[x²] − E[x]² subtracts two numbers of size mean² that
// agree in almost all their digits. For rows of 1e4 + noise in [−1, 1): E[x²] ≈ 1e8, and a
// float holds it to ±4 (half an ulp at 1e8 is 4); the variance is 1/3. The answer is noise.
// The cures, all used below: centre before squaring (two-pass, around the mean); shift the
// data by a nearby value (the row's first element) so sums hold small numbers; accumulate in
// double; merge partial statistics with Chan's formula, which adds M2 values (sums of squared
// deviations) rather than raw squares.
//
// ### The checks every rung must pass
// `kl_lesson_check_layernorm(variant, rows, cols, row_mean)` runs a rung on seeded random
// rows (noise in [−1, 1) around `row_mean`; gamma in [0, 2), beta in [−1, 1)) and holds y,
// mean and rstd to the float64 oracle within 64u relative to the row's scale
// (`kl_check_layernorm`, u = 2⁻²⁴). `check_rung` below runs it on widths that break vector
// loops and chunking (1, 2, 7, 8, 9, 17, 33, 255, 257, 768, 1000, 4097, and one short of, at,
// one past, and twice-plus-one each chunk edge the registry reports), at mean 0 and 1e4, and
// adds three checks of its own: in place (y == x), mean/rstd NULL, and a NaN row and an Inf
// row next to finite rows.

// %% [code]
static const kl_variant *ln_rung(const char *name) { return kl_variant_find(KL_OP_LAYERNORM, name); }



/* In place, with mean/rstd NULL on the first call and present on the second, and specials:
 * row 1 holds a NaN, row 2 an Inf (when rows >= 4); every other row must stay finite. */
static int check_inplace_and_specials(const char *name, ptrdiff_t rows, ptrdiff_t cols, float shift) {
    size_t n = (size_t)(rows * cols);
    float *x0 = malloc(sizeof(float) * n), *x = malloc(sizeof(float) * n);
    float *g = malloc(sizeof(float) * (size_t)cols), *b = malloc(sizeof(float) * (size_t)cols);
    float *mu = malloc(sizeof(float) * (size_t)rows), *rs = malloc(sizeof(float) * (size_t)rows);
    int fail = 0;
    if (!x0 || !x || !g || !b || !mu || !rs) {
        fail = KL_FAIL("out of memory");
        goto done;
    }
    unsigned long long seed = 0xD1B54A32D192ED03ULL ^ (unsigned long long)(rows * 131 + cols);
    for (size_t i = 0; i < n; i++) x0[i] = shift + kl_lesson_uniform(&seed);
    for (ptrdiff_t c = 0; c < cols; c++) g[c] = 1.0f + kl_lesson_uniform(&seed), b[c] = kl_lesson_uniform(&seed);
    if (rows >= 4) {
        x0[1 * cols + cols / 2] = NAN;
        x0[2 * cols + cols - 1] = INFINITY;
    }
    for (int pass = 0; pass < 2 && !fail; pass++) {
        memcpy(x, x0, sizeof(float) * n);
        float *m = pass ? mu : NULL, *r = pass ? rs : NULL;
        kl_stub_reset();
        kl_status s = kl_layernorm_variant(name, rows, cols, x, g, b, 1e-5f, x, m, r);
        if (kl_lesson_report(KL_OP_LAYERNORM, name, s)) {
            fail = 1;
            break;
        }
        ptrdiff_t where;
        double worst = kl_check_layernorm(rows, cols, x0, g, b, 1e-5f, x, m, r, &where);
        if (worst > 1.0)
            fail = KL_FAIL("layernorm/%s %tdx%td mean=%g in place%s: error %.3g x tolerance at %td",
                           name, rows, cols, (double)shift, pass ? "" : " (mean/rstd NULL)", worst, where);
        for (ptrdiff_t c = 0; c < cols && !fail && rows >= 4; c++)
            if (!isnan(x[1 * cols + c]) || !isnan(x[2 * cols + c]) || !isfinite(x[3 * cols + c]))
                fail = KL_FAIL("layernorm/%s %tdx%td: NaN rule broken at column %td", name, rows, cols, c);
    }
done:
    free(x0), free(x), free(g), free(b), free(mu), free(rs);
    return fail;
}

static int check_rung(const char *name) {
    static const ptrdiff_t widths[] = {1, 2, 7, 8, 9, 17, 33, 255, 257, 768, 1000, 4097};
    static const float shifts[] = {0.0f, 1e4f};
    for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++)
        for (int s = 0; s < 2; s++)
            if (kl_lesson_check_layernorm(name, 5, widths[w], shifts[s]) ||
                check_inplace_and_specials(name, 5, widths[w], shifts[s]))
                return 1;
    const kl_variant *v = ln_rung(name);
    ptrdiff_t edges[4];
    size_t count = v && v->blocking ? v->blocking(edges, 4) : 0;
    for (size_t e = 0; e < count && e < 4; e++) {
        const ptrdiff_t cols[4] = {edges[e] - 1, edges[e], edges[e] + 1, 2 * edges[e] + 1};
        for (int i = 0; i < 4; i++)
            if (kl_lesson_check_layernorm(name, 3, cols[i], 1e4f) ||
                check_inplace_and_specials(name, 4, cols[i], 0.0f))
                return 1;
    }
    return kl_lesson_check_layernorm(name, 64, 768, 0.0f); /* many rows at a transformer width */
}

// %% [markdown]
// ## Rung 1: naive (three passes, double sums)
// Mean, then variance around the mean, then the output: three passes over each row, sums in
// double. Correct and robust, and slow: scalar double adds in one dependent chain.

// %% [code] {"kernel": "kernels/layernorm/naive.c", "grade_id": "layernorm_naive", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/naive.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the naive rung

// %% [code] {"grade_id": "test_layernorm_naive", "points": 1, "locked": true}
static int test_layernorm_naive(void) { return check_rung("naive"); }

// %% [markdown]
// ## Rung 2: Welford (one pass for the statistics)
// Welford's update keeps a running mean and M2 (sum of squared deviations from the running
// mean): `d = x − mean; mean += d / k; M2 += d · (x − mean)`. Every update is centred, so
// there is no cancellation, and the statistics take one pass instead of two. But each step
// depends on the previous one and contains a division: it is the slowest rung here, a lesson
// in "fewer passes" not being the same as "faster" when the passes hit L1 anyway. A row with
// NaN/Inf (or a variance too small for float squares) goes to the careful double path shared
// by all rungs (`kl_ln_row_exact` in `kernels/layernorm/common.c`), which reproduces the
// oracle's rule exactly.

// The Welford rung (and every rung after it) finishes a row with two helpers in
// `kernels/layernorm/ln_row.h` that you write first:
//
// - `kl_ln_merge(acc, n, mean, m2)`: add a chunk of `n` values with this mean and sum of
//   squared deviations `m2` into the running `(count, mean, M2)`. Chan's pairwise update:
//   `delta = mean - acc.mean`, `acc.mean += delta * n / total`,
//   `acc.M2 += m2 + delta^2 * acc.n * n / total`. It never subtracts two large sums, so
//   merging rows of 1e4 + noise loses nothing.
// - `kl_ln_finish(acc, eps, &mean, &rstd)`: `var = M2 / count`, `rstd = 1 / sqrt(var + eps)`
//   as floats, returning 1; or 0 when the row must take the exact double fallback instead: a
//   mean or variance that is not finite (NaN/Inf in the row, float overflow) or a variance
//   below 1e-28 (float squares would have lost their bits to underflow).

// %% [code] {"kernel": "kernels/layernorm/ln_row.h", "grade_id": "layernorm_row_helpers", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/ln_row.h; scripts/render inlines it here.

// %% [markdown]
// ### Testing the helpers
// Merging the statistics of two halves must give those of the whole (checked in double against
// a two-pass count), whatever the split, and finishing must refuse a NaN row and a constant one.

// %% [code] {"grade_id": "test_layernorm_helpers", "points": 1, "locked": true}
/* count, mean and M2 of v[0..n) in double, two passes */
static kl_ln_acc exact_stats(const double *v, int n) {
    double mean = 0, m2 = 0;
    for (int i = 0; i < n; i++) mean += v[i];
    mean /= n;
    for (int i = 0; i < n; i++) m2 += (v[i] - mean) * (v[i] - mean);
    return (kl_ln_acc){(double)n, mean, m2};
}

static int test_layernorm_helpers(void) {
    enum { N = 37 };
    double v[N];
    unsigned long long seed = 7;
    for (int i = 0; i < N; i++) v[i] = 1e4 + kl_lesson_uniform(&seed);
    const kl_ln_acc whole = exact_stats(v, N);
    kl_stub_reset();
    for (int split = 1; split < N; split += 5) {
        kl_ln_acc acc = exact_stats(v, split), right = exact_stats(v + split, N - split);
        kl_ln_merge(&acc, right.n, right.mean, right.m2);
        if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
        if (acc.n != whole.n || fabs(acc.mean - whole.mean) > 1e-9 * fabs(whole.mean) ||
            fabs(acc.m2 - whole.m2) > 1e-6 * whole.m2)
            return KL_FAIL("kl_ln_merge at split %d: (n, mean, M2) = (%g, %.12g, %.12g), expected "
                           "(%g, %.12g, %.12g)", split, acc.n, acc.mean, acc.m2, whole.n, whole.mean,
                           whole.m2);
    }
    float m = 0, r = 0;
    int ok = kl_ln_finish(&whole, 1e-5f, &m, &r);
    if (kl_stub_reached()) return KL_FAIL("not implemented yet: write %s", kl_stub_reached());
    const double want_r = 1.0 / sqrt(whole.m2 / whole.n + 1e-5);
    if (!ok || fabs(m - whole.mean) > 1e-3 || fabs(r - want_r) > 1e-5 * want_r)
        return KL_FAIL("kl_ln_finish: returned %d, mean %g rstd %g; expected 1, %g, %g", ok, m, r,
                       whole.mean, want_r);
    const kl_ln_acc nan_row = {4, NAN, 1}, flat_row = {4, 3.0, 0};
    if (kl_ln_finish(&nan_row, 1e-5f, &m, &r) || kl_ln_finish(&flat_row, 1e-5f, &m, &r))
        return KL_FAIL("kl_ln_finish must return 0 for a NaN mean and for a zero variance");
    return 0;
}

// %% [markdown]
// ### The Welford rung

// %% [code] {"kernel": "kernels/layernorm/welford.c", "grade_id": "layernorm_welford", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/welford.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the Welford rung

// %% [code] {"grade_id": "test_layernorm_welford", "points": 2, "locked": true}
static int test_layernorm_welford(void) { return check_rung("welford"); }

// %% [markdown]
// ## Rung 3: row-blocked
// The cache structure, in scalar C (`kernels/layernorm/ln_row.h`). A row is cut into
// chunks of a quarter of L1d (2048 floats with 32 KiB; `kl_ln_chunk()`, reported by the
// `blocking` function so the tests sweep its edges). Each chunk is read twice **while it sits
// in L1**: pass a sums x − x[first] (the shift keeps the float sums small), pass b sums the
// squared deviations from the chunk's mean. Chunk statistics (count, mean, M2) are merged in
// double with Chan's pairwise formula. Then pass c writes y while the row is still in L2.
// x therefore comes from memory once per row; the naive rung reads it three times once a row
// no longer fits in cache. Eight float accumulators, folded into double every 256 floats,
// give the compiler independent adds and keep each float sum short.

// %% [code] {"kernel": "kernels/layernorm/blocked.c", "grade_id": "layernorm_blocked", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/blocked.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the row-blocked rung

// %% [code] {"grade_id": "test_layernorm_blocked", "points": 2, "locked": true}
static int test_layernorm_blocked(void) { return check_rung("blocked"); }

// %% [markdown]
// ## Rung 4: AVX2
// 8-wide vectors, and a different schedule from the blocked rung, because at rows that sit in
// L2 a vector kernel runs out of instructions long before it runs out of bytes: memcpy spends
// one load and one store per 8 floats, and every extra pass over a row costs a load and two or
// three vector operations more. You write the SIMD helpers first, each small enough to reason
// about, then the two functions that use them: `tail_mask` (lanes [0, rem) on), `fold` (8
// float lanes added into 4 double lanes), `hsum_pd` (the horizontal sum of 4 doubles),
// `first_shift` (the mean of the row's first 8 floats), `sum_d_dd` (pass a), `sum_sq` (pass
// b), `finish_row` and `row_stats` (mean and rstd from the sums, with pass b when needed),
// `normalize` (pass c for one row, optionally streamed), `pair_step` and `pair_out` (pass c of
// one pair with, or without, pass a of the next); then `kl_ln_row_avx2` (one row) and
// `kl_ln_rows_avx2` (a block of rows, the one the rung and OpenMP call). The comment above
// each helper in `avx2.c` gives its contract; the bullets below say why it is built so.
// - **One statistics pass, shifted.** Pass a sums d = x − s and d² together, with s the mean of
//   the row's first 8 floats; then, in double, mean = s + Σd/n and M2 = Σd² − (Σd)²/n. The
//   shift keeps float lanes at unit size even when the row's mean is 1e4 (the means stay in
//   double). The price of one pass: that formula loses a factor 1 + (mean − s)²/var of M2's
//   precision to cancellation. So when s turns out to be more than one std from the mean (a
//   row starting with outlier features, sorted data) a **pass b** re-reads the row for
//   Σ(x − m)² around its float mean m, corrected by n·(mean − m)² for the rounding of m: the
//   loss is then never worse than a factor 2. With 8 samples of noise, s is about 0.35 std
//   off, and pass b runs for well under 1% of rows. The test suite's `far_shift` group holds
//   rows that need it: without pass b they fail the oracle.
// - **Horizontal reductions.** Float lane sums are converted to double and added into a double
//   accumulator every 256–512 floats; at the end the 4 double lanes are added. Float lanes
//   carry the speed, double lanes the precision. We did not convert every element to double
//   lanes: that costs two conversions and twice the adds per 8 floats.
// - **Rows in pairs, pipelined.** `pair_step` writes y for rows r and r+1 *in the same loop* as
//   pass a of rows r+2 and r+3: the next rows' loads from L2/L3 overlap this pair's arithmetic
//   and stores, each gamma/beta vector is loaded once for two rows, and the fixed cost of a row
//   (horizontal sums, sqrt, divide: ~100 cycles, next to ~300 for the loop over 768 floats)
//   overlaps the other pair's work. One accumulator per sum keeps the loop in 14 of the 16
//   ymm registers; two per sum would spill (check with `objdump -d`).
// - **One row at a time, past L2.** The pair loop pulls four streams from beyond L2 at once
//   (two rows of x read, two of y written, each store fetching its line first). Once a call's
//   x and y pass L2, a row at a time does better: pass a reads one row into L1, then pass c
//   writes y from L1, one stream per loop. It needs the row, gamma and beta in half of L1.
// - **Blocks of rows, past L2, when a row is too wide for that.** At 4096 floats gamma and
//   beta alone fill a 32 KiB L1: one row at a time would fetch all of them from L2 again for
//   every row and evict the row itself. So `kl_ln_rows_in_blocks` (given, in
//   kernels/layernorm/common.c) computes the statistics of a block of rows with your
//   `row_stats` (the block's x then sits in L2), then writes y a column chunk at a time across
//   the block with your `normalize`: each chunk of gamma and beta is fetched once per block.
//   You hand it the two as a `kl_ln_row_ops`. The block (an eighth of L2) and the chunk (gamma
//   and beta in a quarter of L1) come from your cache sizes. `kl_ln_rows_path` picks pairs, one
//   at a time, or blocks; `KL_LAYERNORM_SINGLE_MIN` (in rows·cols) moves the end of the pairs.
//   The table in Build → Measure → Understand shows the three: its L2 shapes go in pairs, its
//   wider-than-L2 shapes of 768 columns one row at a time, those of 4096 in blocks.
// - **Tails.** `_mm256_maskload_ps` reads masked lanes as 0; after the shift they would be
//   −s, so they are masked out of the sums again. Stores use `_mm256_maskstore_ps`.
// - **Streaming.** Out of place and large (x + y beyond L3, as ReLU), rows go one at a time
//   (or in blocks, when too wide for L1), y is written with non-temporal stores and the next
//   row (in blocks, the row's next chunk) is prefetched into L1 while this one is written; one
//   `sfence` per call.

// %% [code] {"kernel": "kernels/layernorm/avx2.c", "grade_id": "layernorm_avx2", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/avx2.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX2 rung
// On a CPU without AVX2 this prints `SKIP: CPU lacks avx2` and passes. Beyond the shared
// shapes, 300 rows of 2053 floats (every row starts at a different alignment; x + y pass L2
// and a row with gamma and beta is too wide for half of L1, so rows go in blocks) and 600 rows
// of 768 floats (x + y past L2 on every CPU the lab has met: rows go one at a time).

// %% [code] {"grade_id": "test_layernorm_avx2", "points": 3, "locked": true}
static int test_layernorm_avx2(void) {
    if (kl_lesson_skip_rung(KL_OP_LAYERNORM, "avx2", 1)) return 0;
    return check_rung("avx2") || kl_lesson_check_layernorm("avx2", 300, 2053, 3.0f) ||
           kl_lesson_check_layernorm("avx2", 600, 768, 3.0f);
}

// %% [markdown]
// ## Rung 4b: AVX-512
// The AVX2 rung line for line (one shifted statistics pass, pass b when needed, rows in
// pairs) with 16-wide vectors, `__mmask16` tails (`maskz` loads and a `maskz_sub` that keeps
// masked lanes at zero after the shift) and `_mm512_reduce_add_pd` for the final horizontal
// sum. It only runs, and is only checked, on a CPU with AVX-512 (F, BW, DQ, VL): the first
// line the lesson prints says whether yours has it.

// %% [code] {"kernel": "kernels/layernorm/avx512.c", "grade_id": "layernorm_avx512", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/avx512.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the AVX-512 rung
// On a CPU without AVX-512 this prints `SKIP: CPU lacks avx512` and passes.

// %% [code] {"grade_id": "test_layernorm_avx512", "points": 2, "locked": true}
static int test_layernorm_avx512(void) {
    if (kl_lesson_skip_rung(KL_OP_LAYERNORM, "avx512", 1)) return 0; /* here: "SKIP: CPU lacks avx512" */
    return check_rung("avx512") || kl_lesson_check_layernorm("avx512", 300, 2053, 3.0f) ||
           kl_lesson_check_layernorm("avx512", 600, 768, 3.0f);
}

// %% [markdown]
// ## Rung 5: OpenMP
// Rows are independent, so the parallel loop is over rows: each thread takes a contiguous block
// of rows (its own stretch of x and y, no shared lines except at block edges of mean and rstd,
// written once) and runs the best SIMD rows kernel the CPU has on it (rows in pairs, or one at
// a time or in blocks of rows once its share passes L2). A row is never split, so nothing needs
// a cross-thread reduction. Below a size measured on your machine at start-up (the team's
// wake-up time against one thread's copy rate; `KL_LAYERNORM_OMP_MIN` overrides it, in floats),
// or with a single row, it stays on the calling thread. It streams y past L3, as the
// single-thread rungs do.

// %% [code] {"kernel": "kernels/layernorm/openmp.c", "grade_id": "layernorm_openmp", "points": 0, "solution": true}
// The implementation lives in kernels/layernorm/openmp.c; scripts/render inlines it here.

// %% [markdown]
// ### Testing the OpenMP rung
// The same checks at 1 and at 2 threads, plus shapes above the threading threshold with a row
// count that does not divide evenly, then the default is restored with `kl_set_num_threads(0)`.

// %% [code] {"grade_id": "test_layernorm_openmp", "points": 3, "locked": true}
static int test_layernorm_openmp(void) {
    if (kl_lesson_skip_rung(KL_OP_LAYERNORM, "openmp", 1)) return 0;
    int fail = 0;
    for (int threads = 1; threads <= 2 && !fail; threads++) {
        if (kl_set_num_threads(threads) != KL_OK) {
            fail = KL_FAIL("kl_set_num_threads(%d) failed", threads);
            break;
        }
        fail = check_rung("openmp") || kl_lesson_check_layernorm("openmp", 77, 768, 1e4f) ||
               kl_lesson_check_layernorm("openmp", 301, 2053, 0.0f) ||
               check_inplace_and_specials("openmp", 67, 1024, 0.0f);
    }
    kl_set_num_threads(0);
    return fail;
}

// %% [markdown]
// ## Cancellation, demonstrated
// A lesson-local function (not a registered rung) computes the variance the textbook one-pass
// way, in float: `var = Σx²/n − (Σx/n)²`. On rows of 1e4 + noise it is held to the same
// oracle as the rungs. It fails by orders of magnitude (the printed error is in multiples of
// the tolerance; a negative variance even makes rstd NaN). The graded test then requires every
// registered rung to pass on exactly those rows, at 768 and 4096 wide.

// %% [code] {"grade_id": "test_layernorm_cancellation", "points": 2, "locked": true}
/* The WRONG way, on purpose: E[x^2] - E[x]^2 in float. */
static void layernorm_float_onepass(ptrdiff_t rows, ptrdiff_t cols, const float *x, const float *g,
                                    const float *b, float eps, float *y, float *mean, float *rstd) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float s = 0.0f, sq = 0.0f;
        for (ptrdiff_t c = 0; c < cols; c++) s += xr[c], sq += xr[c] * xr[c];
        float m = s / (float)cols, var = sq / (float)cols - m * m;
        float rs = 1.0f / sqrtf(var + eps);
        for (ptrdiff_t c = 0; c < cols; c++) y[r * cols + c] = (xr[c] - m) * rs * g[c] + b[c];
        mean[r] = m, rstd[r] = rs;
    }
}

static int test_layernorm_cancellation(void) {
    enum { ROWS = 16, COLS = 768 };
    float *x = malloc(sizeof(float) * ROWS * COLS), *y = malloc(sizeof(float) * ROWS * COLS);
    float g[COLS], b[COLS], mu[ROWS], rs[ROWS];
    if (!x || !y) {
        free(x), free(y);
        return KL_FAIL("out of memory");
    }
    unsigned long long seed = 42;
    for (int i = 0; i < ROWS * COLS; i++) x[i] = 1e4f + kl_lesson_uniform(&seed);
    for (int c = 0; c < COLS; c++) g[c] = 1.0f, b[c] = 0.0f;
    layernorm_float_onepass(ROWS, COLS, x, g, b, 1e-5f, y, mu, rs);
    ptrdiff_t where;
    double worst = kl_check_layernorm(ROWS, COLS, x, g, b, 1e-5f, y, mu, rs, &where);
    printf("    float E[x^2]-E[x]^2 on 1e4 + noise: error %.3g x tolerance (rstd[0] = %g, oracle ~%.4g)\n",
           worst, (double)rs[0], 1.0 / sqrt(1.0 / 3.0));
    free(x), free(y);
    int fail = 0;
    for (size_t i = 0; i < kl_variant_count() && !fail; i++) {
        const kl_variant *v = kl_variant_at(i);
        if (v->op != KL_OP_LAYERNORM || !kl_variant_available(v)) continue;
        fail = kl_lesson_check_layernorm(v->name, ROWS, COLS, 1e4f) ||
               kl_lesson_check_layernorm(v->name, 4, 4096, 1e4f) ||
               kl_lesson_check_layernorm(v->name, 4, 4096, -3e4f);
        if (!fail) printf("    %-8s passes on rows of 1e4 + noise\n", v->name);
    }
    return fail;
}

// %% [markdown]
// ## Build → Measure → Understand
// Every rung at shapes where x + y fill half of L2, half of L3 and 4 x L3 (DRAM; capped, and
// each row says where its set really fits on this machine), at 768 and 4096 wide, in GB/s
// (8 bytes per element: read x, write y) next to `memcpy` of x into y, timed here in the same
// process (medians; the threaded rung at 1 and 2 threads). Printed and drawn
// (`results/layernorm_vs_memcpy.png`: each rung at 768 wide as % of memcpy), never asserted.
//
// What to look for:
// - **naive vs blocked at DRAM sizes**: naive reads each row three times; when rows are
//   narrow enough to stay in L1/L2 between passes, the extra passes are cheap and the
//   difference is mostly the scalar double chains. Blocked reads x from memory once.
// - **Welford is the slowest**: one pass, but a division and a dependent chain per element.
// - **AVX2 vs memcpy in L2**: memcpy is one load and one store per 32 bytes; the SIMD rung
//   does two passes (a load and three vector operations for the statistics, then x, gamma,
//   beta loads, three more operations and a store), so while everything is in cache it is
//   bound by instructions and reaches only about 0.5–0.6 of the copy's speed. Further out,
//   where both are bound by the bus, it moves the same bytes as the copy (with streaming
//   stores) and matches or beats it.
// - **2 threads** help where one core cannot saturate the bus; on this shared VM they can
//   also lose when the second core is busy with someone else's job.

// %% [code] {"grade_id": "measure_ladder", "points": 0, "locked": true}
static int measure_ladder(void) {
    size_t ws[3];
    kl_lesson_stream_sets(ws);
    const int reps[3] = {51, 7, 3};
    const ptrdiff_t widths[2] = {768, 4096};
    char machine[160];
    kl_lesson_machine(machine, sizeof machine);
    kl_json fig = {0};
    int first = 1;
    kl_json_add(&fig, "{\"kind\": \"bars\", \"title\": \"LayerNorm rungs as %% of memcpy of the same "
                "bytes\", \"machine\": \"%s\", \"ylabel\": \"%% of memcpy\", \"reference\": 100, "
                "\"bars\": [", machine);
    printf("    %-5s %-11s %-16s %9s %9s\n", "level", "rows x cols", "rung", "GB/s", "/memcpy");
    for (int s = 0; s < 3; s++)
        for (int w = 0; w < 2; w++) {
            ptrdiff_t cols = widths[w], rows = (ptrdiff_t)(ws[s] / 8) / cols;
            if (rows < 1) rows = 1;
            const char *level = kl_lesson_level(8 * (size_t)(rows * cols));
            double bytes = 8.0 * (double)(rows * cols), copy = kl_lesson_memcpy_seconds((size_t)(rows * cols), reps[s]);
            char shape[24];
            snprintf(shape, sizeof shape, "%tdx%td", rows, cols);
            printf("    %-5s %-11s %-16s %9.1f %9.2f\n", level, shape, "memcpy", 1e-9 * bytes / copy, 1.0);
            for (size_t i = 0; i < kl_variant_count(); i++) {
                const kl_variant *v = kl_variant_at(i);
                if (v->op != KL_OP_LAYERNORM || !kl_variant_available(v)) continue;
                for (int threads = 1; threads <= (v->threaded ? 2 : 1); threads++) {
                    if (v->threaded) kl_set_num_threads(threads);
                    double t = kl_lesson_median_seconds("layernorm", v->name, rows, cols, 0, reps[s]);
                    char label[40];
                    snprintf(label, sizeof label, v->threaded ? "%s (%d thr)" : "%s", v->name, threads);
                    if (isnan(t))
                        printf("    %-5s %-11s %-16s %9s %9s   (not written yet)\n", level, shape, label, "-", "-");
                    else
                        printf("    %-5s %-11s %-16s %9.1f %9.2f\n", level, shape, label, 1e-9 * bytes / t, copy / t);
                    if (w == 0) { /* the figure: the 768-wide rows */
                        kl_json_add(&fig, "%s{\"label\": \"%s %s\", \"value\": ", first ? "" : ", ", level, label);
                        kl_json_num(&fig, 100 * copy / t);
                        kl_json_add(&fig, "}");
                        first = 0;
                    }
                }
                kl_set_num_threads(0);
            }
        }
    kl_json_add(&fig, "]}");
    kl_lesson_figure("layernorm_vs_memcpy", &fig);
    return 0;
}

// %% [markdown]
// ## Memory profiling
// No LayerNorm rung allocates: statistics live in registers and a few locals, mean/rstd go to
// the caller's arrays (or to locals when NULL), and every registry entry says
// `scratch_bytes = NULL`. The lesson's `--workload layernorm VARIANT rows cols 0` mode
// allocates x and y (rows·cols floats each), gamma and beta (cols), mean and rstd (rows),
// makes one call and exits; `kl_lesson_massif_peak` returns Massif's peak heap bytes. The
// bound, at 64 × 1000:
//
//     inputs    = 4·(2·rows·cols + 2·cols + 2·rows)   x, y, gamma, beta, mean, rstd: 520,512 B
//     scratch   = 0                                     no rung allocates
//     allowance = 4 KiB + 1 KiB per thread              heap the rung does not own
//     inputs < peak <= inputs + scratch + allowance
//
// The allowance is the C and OpenMP runtimes' bookkeeping: a few bytes single-threaded, and for
// the openmp rung (64,000 floats is above its threshold, so the team really starts) libgomp's
// pool and team structures, about 2.3 KiB at 2 threads as measured in Module 02. Thread stacks
// are mmap'd, not heap. The lower bound proves Massif saw the workload. Without valgrind, or in
// a sanitizer build, the test prints SKIP and passes.

// %% [code] {"grade_id": "test_memory_layernorm", "points": 2, "locked": true}
enum { MASSIF_ROWS = 64, MASSIF_COLS = 1000 };


static int massif_within(const char *name) {
    const kl_variant *v = ln_rung(name);
    if (!v || !kl_variant_available(v)) return 0; /* not in this build / CPU */
    const size_t r = MASSIF_ROWS, c = MASSIF_COLS;
    const size_t inputs = sizeof(float) * (2 * r * c + 2 * c + 2 * r);
    const int threads = v->threaded ? kl_get_num_threads() : 1;
    const size_t scratch = v->scratch_bytes ? v->scratch_bytes(MASSIF_ROWS, MASSIF_COLS, 0, threads) : 0;
    const size_t allowance = 4096 + 1024 * (size_t)threads;
    if (!kl_lesson_implemented("layernorm", name, MASSIF_ROWS, MASSIF_COLS, 0)) return 1;
    long long peak = kl_lesson_massif_peak("layernorm", name, MASSIF_ROWS, MASSIF_COLS, 0);
    if (peak < 0) return KL_FAIL("layernorm/%s: the Massif run failed (does the rung work?)", name);
    printf("    %-8s %dx%d threads=%d: peak %lld B = inputs %zu + %lld (scratch formula %zu)\n", name,
           MASSIF_ROWS, MASSIF_COLS, threads, peak, inputs, peak - (long long)inputs, scratch);
    if (peak <= (long long)inputs)
        return KL_FAIL("layernorm/%s: peak %lld <= inputs %zu: Massif did not see the workload",
                       name, peak, inputs);
    if (peak > (long long)(inputs + scratch + allowance))
        return KL_FAIL("layernorm/%s: peak %lld > inputs %zu + scratch %zu + allowance %zu", name,
                       peak, inputs, scratch, allowance);
    return 0;
}

static int test_memory_layernorm(void) {
    if (!kl_lesson_valgrind_usable()) {
        printf("    SKIP: valgrind is not installed, or this is a sanitizer build\n");
        return 0;
    }
    return massif_within("naive") || massif_within("blocked") || massif_within("avx2") ||
           massif_within("openmp");
}

// %% [markdown]
// ## Complexity
// - **Time**: O(rows·cols), about 8 flops per element for every rung, plus O(rows) square
//   roots and divisions; Welford adds a division per element.
// - **Memory traffic** (rows wider than L1 but narrower than L2, arrays larger than cache):
//   naive and Welford read x from memory once per row and re-read it from L2; the blocked
//   rung reads each chunk twice from L1, then x once more from L2; the SIMD rungs read x once
//   for the statistics (twice for the rare rows that need pass b) and once more from L1/L2. Minimum traffic
//   is 8 bytes per element (x in, y out) plus 8·cols for gamma and beta, once; with ordinary
//   out-of-place stores add 4 for the read-for-ownership of y. Rows wider than L2 cost one
//   more read of x from memory for the output pass: no schedule avoids it, since no output
//   can be written before the row's statistics exist.
// - **Space**: no scratch: O(1) registers per row, mean/rstd only if the caller asks.
// - **Numerics**: float lanes sum at most 8–32 values before folding into double; chunk
//   statistics merge with Chan's formula; error stays within the oracle's 64u of the row scale
//   for rows of any mean (tested at 1e4 and −3e4).

// %% [markdown]
// ## Production context
// - **PyTorch `F.layer_norm`** calls ATen's `native_layer_norm`, which returns three tensors,
//   the output, the per-row mean and the per-row rstd, and autograd saves mean and rstd for
//   `native_layer_norm_backward`: the same contract as `kl_layernorm`'s optional mean/rstd.
//   The CPU kernel (`LayerNormKernelImpl`) computes each row's moments with a vectorised
//   Welford-style routine (`RowwiseMoments`), then the affine output, and parallelises over
//   rows with `at::parallel_for`. For bf16/fp16 inputs the statistics are accumulated in float.
// - **llm.c** (Karpathy's GPT-2 trainer in C) has a CPU `layernorm_forward` that, per
//   (batch, time) row, computes the mean, then the variance around it in a second pass, then
//   writes `(x − m) · rstd · weight + bias`, and caches `mean` and `rstd` in buffers that
//   `layernorm_backward` reads: the two-pass, cache-the-statistics pattern of this module.
// - **Fused epilogues** in cuBLASLt (bias, ReLU, GELU) and oneDNN post-ops (eltwise, sum,
//   binary) attach elementwise work to a matmul's output tiles. LayerNorm is not elementwise:
//   it needs a whole row's statistics first, which a GEMM tile usually does not span, so
//   libraries ship it as its own operation (oneDNN's `layer_normalization` primitive, which can
//   output mean and variance for training) and fuse it with neighbouring elementwise work or
//   residual adds instead.

// %% [code] {"grade_id": "run_all_tests", "points": 0, "locked": true}
int main(int argc, char **argv) {
    static const kl_lesson_test tests[] = {
        {"test_layernorm_naive", 1, test_layernorm_naive},
        {"test_layernorm_helpers", 1, test_layernorm_helpers},
        {"test_layernorm_welford", 2, test_layernorm_welford},
        {"test_layernorm_blocked", 2, test_layernorm_blocked},
        {"test_layernorm_avx2", 3, test_layernorm_avx2},
        {"test_layernorm_avx512", 2, test_layernorm_avx512},
        {"test_layernorm_openmp", 3, test_layernorm_openmp},
        {"test_layernorm_cancellation", 2, test_layernorm_cancellation},
        {"measure_ladder", 0, measure_ladder},
        {"test_memory_layernorm", 2, test_memory_layernorm},
    };
    return kl_lesson_main(argc, argv, "03_layernorm", tests, sizeof tests / sizeof tests[0]);
}

// %% [markdown]
// ## ML systems thinking
//
// Answer each question in the cell after it: a few sentences, with numbers this lesson
// measured on your machine. These answers are graded by hand (2 points each).
//
// 1. GPT-2 small normalises 1024 tokens × 768 features twice per layer, 12 layers. How many
//    bytes does one forward pass of LayerNorm move at minimum, and how long is that at this
//    machine's DRAM bandwidth? Compare with the layer's matmuls (Module 01 GFLOP/s).
// 2. The backward pass needs mean and rstd. What would it cost to recompute them in backward
//    instead of storing them (bytes stored vs passes re-read), and when is recomputation the
//    better trade (think activation checkpointing)?
// 3. Your statistics are exact to float precision for rows of 1e4 + noise. Construct a row on
//    which the SIMD rungs' one shifted pass alone (Σd² − (Σd)²/n, without pass b) would lose
//    accuracy, and say how many bits as a function of (mean − s)/std. Why does the blocked
//    rung's Chan merge of chunk M2 values not have this problem, and what does it pay instead?
// 4. RMSNorm (LLaMA) drops the mean: y = x · rsqrt(mean(x²) + eps) · gamma. Which passes and
//    which numerical hazard disappear, and which remain?
// 5. The OpenMP rung splits rows across threads. For a single very wide row (say 1 Mi floats,
//    a long-context attention normaliser), how would you parallelise instead, and what must
//    the threads combine? (Hint: the merge function you already have.)

// %% [markdown] {"grade_id": "answer_layernorm_q1", "points": 2, "grade": true, "solution": true}
// **Answer 1** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_layernorm_q2", "points": 2, "grade": true, "solution": true}
// **Answer 2** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_layernorm_q3", "points": 2, "grade": true, "solution": true}
// **Answer 3** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_layernorm_q4", "points": 2, "grade": true, "solution": true}
// **Answer 4** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown] {"grade_id": "answer_layernorm_q5", "points": 2, "grade": true, "solution": true}
// **Answer 5** (graded by hand; write it here, in this lesson file or its notebook):
//
// YOUR ANSWER HERE

// %% [markdown]
// ## Summary
// - LayerNorm is a reduction followed by an elementwise pass: about 1 flop/byte, bound by
//   bandwidth, judged against `memcpy` of the same bytes.
// - **naive** (three passes, double), **Welford** (one statistics pass, slow dependent
//   chain), **row-blocked** (chunks of L1 read twice in cache, Chan merge, one read of x
//   from memory), **AVX2/AVX-512** (one shifted statistics pass with a centred pass b only
//   when the shift is far off, float lanes folded into double, rows in pairs with the next
//   pair's statistics in the same loop, one at a time or in blocks of rows past L2, masked
//   tails, streaming stores), **OpenMP** (rows across threads).
// - E[x²] − E[x]² in float fails the oracle on rows of 1e4 + noise; centred, shifted,
//   double-merged statistics pass, and a graded test holds every rung to it.
// - Every rung writes mean/rstd for backward, works in place, turns a row with NaN/Inf into
//   NaN, allocates nothing (Massif), and is timed but never asserted on time.
