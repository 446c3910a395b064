#define _POSIX_C_SOURCE 200809L /* clock_gettime */
/* Tuning knobs the rungs share: the one environment reader, the size from which an elementwise
 * kernel wakes a team, and the rule for when an out-of-place kernel writes y with
 * non-temporal (streaming) stores. Both rules are derived on the machine that runs them: from
 * kl_cpu_cache_bytes and from a copy timed in the same process, never from one CPU's constants. */
#include "variants.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

ptrdiff_t kl_env_size(const char *name, ptrdiff_t lo, ptrdiff_t hi, volatile ptrdiff_t *cache) {
    if (cache && *cache != KL_ENV_UNREAD) return *cache;
    const char *e = getenv(name);
    char *end = NULL;
    errno = 0;
    long long v = e && *e ? strtoll(e, &end, 10) : -1;
    ptrdiff_t out = e && *e && !errno && *end == '\0' && v >= lo && v <= hi ? (ptrdiff_t)v : -1;
    if (cache) *cache = out; /* benign race: every thread computes the same */
    return out;
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best of several: noise (another process, an interrupt) only ever makes a sample slower. */
enum { KL_CALIBRATION_SAMPLES = 15 };

/* One thread's copy rate in bytes moved (read + write) per second, x and y in L2: the speed a
 * bandwidth-bound kernel's work runs at before it is split. The buffers are static (not heap:
 * memory profiles of the kernels see no allocation), 64 KiB each, in every L2 and past L1. */
static double copy_rate(void) {
    static unsigned char src[64 << 10], dst[64 << 10];
    memset(src, 1, sizeof src);
    memcpy(dst, src, sizeof src); /* both in cache before timing */
    double best = 1e30;
    for (int i = 0; i < KL_CALIBRATION_SAMPLES; i++) {
        double t0 = seconds_now();
        memcpy(dst, src, sizeof src);
        __asm__ volatile("" : : "r"(dst) : "memory"); /* the copy is not dead */
        double t = seconds_now() - t0;
        if (t < best) best = t;
    }
    return 2.0 * (double)sizeof src / (best > 1e-9 ? best : 1e-9);
}

/* Seconds to wake a team of `threads` and join it again (an empty parallel region). */
static double team_wake(int threads) {
#ifdef _OPENMP
    double best = 1e30;
    for (int i = 0; i <= KL_CALIBRATION_SAMPLES; i++) {
        double t0 = seconds_now();
#pragma omp parallel num_threads(threads)
        __asm__ volatile("" : : : "memory");
        double t = seconds_now() - t0;
        if (i > 0 && t < best) best = t; /* the first region may create the pool */
    }
    return best;
#else
    (void)threads;
    return 0.0;
#endif
}

size_t kl_team_min_bytes_rule(double wake_s, double copy_bytes_per_s, int threads, size_t l1,
                              size_t l2) {
    if (threads <= 1) return (size_t)-1;
    double t = (double)threads, bytes = wake_s * copy_bytes_per_s * t / (t - 1.0);
    double lo = (double)l1, hi = t * (double)l2;
    return (size_t)(bytes < lo ? lo : bytes > hi ? hi : bytes);
}

/* Work W bytes at rate B takes W / B on one thread and W / (t B) + wake on t: the team wins
 * from W = wake B t / (t - 1). Measured once per team size (one copy rate per process).
 * Clamped to [L1, t x L2]: below L1 no split is worth a wake-up, and once each thread's share
 * passes its own L2 the team pays on memory-level parallelism alone, whatever the timing of
 * a loaded machine said. The copy rate makes it right for a kernel as fast as memcpy (ReLU)
 * and early enough for a slower one (LayerNorm: its work takes longer per byte). */
size_t kl_team_min_bytes(int threads) {
    enum { KL_TEAM_CACHE = 64 };
    static volatile double rate = -1.0; /* benign races: every thread measures alike */
    static volatile size_t cached[KL_TEAM_CACHE + 1];
    if (threads <= 1) return (size_t)-1;
    int slot = threads < KL_TEAM_CACHE ? threads : KL_TEAM_CACHE;
    if (cached[slot] == 0) {
        if (rate < 0.0) rate = copy_rate();
        cached[slot] = kl_team_min_bytes_rule(team_wake(threads), rate, threads,
                                              kl_cpu_cache_bytes(1), kl_cpu_cache_bytes(2));
    }
    return cached[slot];
}

/* Ordinary stores read each line of y before writing it (read for ownership); streaming
 * stores do not, but leave y out of cache for whoever reads it next. Stream from L3-bytes / 8
 * floats on, i.e. once x + y pass L3, on one thread as on a team: while x and y fit, L3 serves
 * the reads for ownership about as fast as a copy runs (memcpy keeps its stores cached there
 * too), and y stays in cache for the next layer; past L3, every store goes to memory anyway
 * and skipping the reads saves a third of the traffic. The lessons measure the crossover on
 * the machine they run on (modules/02_relu/README.md); env KL_RELU_NT_MIN /
 * KL_LAYERNORM_NT_MIN override. */
ptrdiff_t kl_stream_min_default(void) {
    return (ptrdiff_t)(kl_cpu_cache_bytes(3) / 8);
}
