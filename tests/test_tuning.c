/* The size from which an elementwise kernel wakes a team (kernels/tuning.c): the break-even
 * rule on known figures, and the figure this machine measures for itself. Then when LayerNorm's
 * rows go one at a time (kernels/layernorm/common.c), on known cache geometries. Internal API,
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

    /* LayerNorm rows one at a time: once x + y of the call pass L2 (x alone in place), if a
     * row with gamma and beta (12 bytes a column) fits half of L1d. */
    enum { KIB = 1 << 10, MIB = 1 << 20 };
    static const struct {
        const char *what;
        ptrdiff_t rows, cols;
        int in_place;
        size_t l1, l2;
        int want;
    } geometry[] = {
        {"zen4 2730x768 (L3)", 2730, 768, 0, 32 * KIB, 1 * MIB, 1},
        {"zen4 85x768 (L2)", 85, 768, 0, 32 * KIB, 1 * MIB, 0},
        {"zen4 170x768 (just under L2)", 170, 768, 0, 32 * KIB, 1 * MIB, 0},
        {"zen4 171x768 (just over L2)", 171, 768, 0, 32 * KIB, 1 * MIB, 1},
        {"zen4 512x4096 (a row does not fit)", 512, 4096, 0, 32 * KIB, 1 * MIB, 0},
        {"zen4 1024x1365 (the widest row that fits)", 1024, 1365, 0, 32 * KIB, 1 * MIB, 1},
        {"zen4 1024x1366 (one column more)", 1024, 1366, 0, 32 * KIB, 1 * MIB, 0},
        {"zen4 in place 341x768 (x alone in L2)", 341, 768, 1, 32 * KIB, 1 * MIB, 0},
        {"zen4 in place 342x768 (x past L2)", 342, 768, 1, 32 * KIB, 1 * MIB, 1},
        {"xeon 341x768 (still in its L2)", 341, 768, 0, 48 * KIB, 2 * MIB, 0},
        {"xeon 342x768 (just past its L2)", 342, 768, 0, 48 * KIB, 2 * MIB, 1},
        {"xeon 512x2048 (the widest row that fits)", 512, 2048, 0, 48 * KIB, 2 * MIB, 1},
        {"xeon 512x4096", 512, 4096, 0, 48 * KIB, 2 * MIB, 0},
        {"zen3 85x768 (in its L2)", 85, 768, 0, 32 * KIB, 512 * KIB, 0},
        {"zen3 86x768 (past its L2)", 86, 768, 0, 32 * KIB, 512 * KIB, 1},
    };
    for (size_t i = 0; i < sizeof geometry / sizeof geometry[0]; i++)
        expect(geometry[i].what,
               (size_t)kl_ln_rows_singly_rule(geometry[i].rows, geometry[i].cols,
                                              geometry[i].in_place, geometry[i].l1, geometry[i].l2),
               (size_t)geometry[i].want);
    printf("%s: this machine wakes a team of 2 from %zu bytes of traffic (L1 %zu, L2 %zu)\n",
           failures ? "FAILED" : "ok", mine, lo, kl_cpu_cache_bytes(2));
    return failures != 0;
}
