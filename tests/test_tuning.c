/* The size from which an elementwise kernel wakes a team (kernels/tuning.c): the break-even
 * rule on known figures, and the figure this machine measures for itself. Then how LayerNorm
 * walks its rows (kernels/layernorm/common.c), on known cache geometries. Internal API,
 * so this includes kernels/variants.h and the LayerNorm header. */
#include "layernorm/layernorm.h"
#include "variants.h"

#include <stdint.h>
#include <stdio.h>

static int failures;

static void expect(const char *what, size_t got, size_t want) {
    if (got != want) {
        printf("FAIL: %s: got %zu, want %zu\n", what, got, want);
        failures++;
    }
}

int main(void) {
    const size_t l1 = 32 << 10, l2 = 1 << 20;
    /* 2 us to wake 2 threads, 100 GB/s copy: 2e-6 * 1e11 * 2 = 400 kB */
    expect("2 threads, 2 us, 100 GB/s", kl_team_min_bytes_rule(2e-6, 1e11, 2, l1, l2), 400000);
    /* 4 threads gain 3/4 of the time, not 1/2: 2e-6 * 1e11 * 4/3 */
    expect("4 threads", kl_team_min_bytes_rule(2e-6, 1e11, 4, l1, l2), 266666);
    /* a wake-up timed on a busy machine (2 ms) is capped at t x L2 */
    expect("slow wake capped", kl_team_min_bytes_rule(2e-3, 1e11, 2, l1, l2), 2 * l2);
    /* a free wake-up still needs L1 of work */
    expect("tiny wake floored", kl_team_min_bytes_rule(1e-9, 1e11, 2, l1, l2), l1);
    expect("one thread never", kl_team_min_bytes_rule(2e-6, 1e11, 1, l1, l2), SIZE_MAX);
    expect("kl_team_min_bytes(1)", kl_team_min_bytes(1), SIZE_MAX);
    size_t mine = kl_team_min_bytes(2), again = kl_team_min_bytes(2);
    size_t lo = kl_cpu_cache_bytes(1), hi = 2 * kl_cpu_cache_bytes(2);
#ifdef _OPENMP
    if (mine < lo || mine > hi) {
        printf("FAIL: kl_team_min_bytes(2) = %zu outside [L1, 2 x L2] = [%zu, %zu]\n", mine, lo, hi);
        failures++;
    }
#endif
    expect("measured once", again, mine);

    /* How LayerNorm walks a call's rows: in pairs while x + y (x alone in place) fit L2 and
     * nothing streams; past it, one at a time if a row with gamma and beta (12 bytes a
     * column) fits half of L1d, else in blocks. */
    enum { KIB = 1 << 10, MIB = 1 << 20 };
    enum { P = KL_LN_PAIRS, S = KL_LN_SINGLY, B = KL_LN_BLOCKS };
    static const struct {
        const char *what;
        ptrdiff_t rows, cols;
        int in_place, stream;
        size_t l1, l2;
        int want;
    } geometry[] = {
        {"zen4 2730x768 (L3)", 2730, 768, 0, 0, 32 * KIB, 1 * MIB, S},
        {"zen4 85x768 (L2)", 85, 768, 0, 0, 32 * KIB, 1 * MIB, P},
        {"zen4 170x768 (just under L2)", 170, 768, 0, 0, 32 * KIB, 1 * MIB, P},
        {"zen4 171x768 (just over L2)", 171, 768, 0, 0, 32 * KIB, 1 * MIB, S},
        {"zen4 512x4096 (a row does not fit)", 512, 4096, 0, 0, 32 * KIB, 1 * MIB, B},
        {"zen4 16x4096 (in L2: pairs, however wide)", 16, 4096, 0, 0, 32 * KIB, 1 * MIB, P},
        {"zen4 1024x1365 (the widest row that fits)", 1024, 1365, 0, 0, 32 * KIB, 1 * MIB, S},
        {"zen4 1024x1366 (one column more)", 1024, 1366, 0, 0, 32 * KIB, 1 * MIB, B},
        {"zen4 in place 341x768 (x alone in L2)", 341, 768, 1, 0, 32 * KIB, 1 * MIB, P},
        {"zen4 in place 342x768 (x past L2)", 342, 768, 1, 0, 32 * KIB, 1 * MIB, S},
        {"zen4 streamed 4x768 (small, but streamed)", 4, 768, 0, 1, 32 * KIB, 1 * MIB, S},
        {"zen4 streamed 4096x4096", 4096, 4096, 0, 1, 32 * KIB, 1 * MIB, B},
        {"xeon 341x768 (still in its L2)", 341, 768, 0, 0, 48 * KIB, 2 * MIB, P},
        {"xeon 342x768 (just past its L2)", 342, 768, 0, 0, 48 * KIB, 2 * MIB, S},
        {"xeon 512x2048 (the widest row that fits)", 512, 2048, 0, 0, 48 * KIB, 2 * MIB, S},
        {"xeon 512x2049 (one column more)", 512, 2049, 0, 0, 48 * KIB, 2 * MIB, B},
        {"xeon 512x4096", 512, 4096, 0, 0, 48 * KIB, 2 * MIB, B},
        {"zen3 85x768 (in its L2)", 85, 768, 0, 0, 32 * KIB, 512 * KIB, P},
        {"zen3 86x768 (past its L2)", 86, 768, 0, 0, 32 * KIB, 512 * KIB, S},
    };
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
        expect(geometry[i].what,
               (size_t)kl_ln_rows_path_rule(geometry[i].rows, geometry[i].cols,
                                            geometry[i].in_place, geometry[i].stream,
                                            geometry[i].l1, geometry[i].l2),
               (size_t)geometry[i].want);

    /* BLOCKS' geometry: a block's x in an eighth of L2, 2..64 rows; gamma's and beta's
     * chunks in a quarter of L1d, a multiple of 64 floats. */
    expect("zen4 block rows at 4096", (size_t)kl_ln_block_rows_rule(4096, 1 * MIB), 8);
    expect("zen4 block rows at 1366", (size_t)kl_ln_block_rows_rule(1366, 1 * MIB), 23);
    expect("xeon block rows at 4096", (size_t)kl_ln_block_rows_rule(4096, 2 * MIB), 16);
    expect("zen3 block rows at 4096", (size_t)kl_ln_block_rows_rule(4096, 512 * KIB), 4);
    expect("a row wider than L2: 2 rows", (size_t)kl_ln_block_rows_rule(1 << 20, 1 * MIB), 2);
    expect("narrow rows: at most 64", (size_t)kl_ln_block_rows_rule(8, 1 * MIB), KL_LN_BLOCK_ROWS_MAX);
    expect("block cols, 32 KiB L1d", (size_t)kl_ln_block_cols_rule(32 * KIB), 1024);
    expect("block cols, 48 KiB L1d", (size_t)kl_ln_block_cols_rule(48 * KIB), 1536);
    expect("block cols, 1 KiB L1d", (size_t)kl_ln_block_cols_rule(1 * KIB), 64);
    printf("%s: this machine wakes a team of 2 from %zu bytes of traffic (L1 %zu, L2 %zu)\n",
           failures ? "FAILED" : "ok", mine, lo, kl_cpu_cache_bytes(2));
    return failures != 0;
}
