/* The size from which an elementwise kernel wakes a team (kernels/tuning.c): the break-even
 * rule on known figures, and the figure this machine measures for itself. Internal API, so
 * this includes kernels/variants.h. */
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
    printf("%s: this machine wakes a team of 2 from %zu bytes of traffic (L1 %zu, L2 %zu)\n",
           failures ? "FAILED" : "ok", mine, lo, kl_cpu_cache_bytes(2));
    return failures != 0;
}
