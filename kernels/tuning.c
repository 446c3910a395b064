/* Tuning knobs the rungs share: environment overrides, and the rule for when an out-of-place
 * kernel writes y with non-temporal (streaming) stores. */
#include "variants.h"

#include <stdlib.h>

ptrdiff_t kl_env_size(const char *name, volatile ptrdiff_t *cache) {
    if (*cache == -2) { /* benign race: every thread computes the same */
        const char *e = getenv(name);
        char *end = NULL;
        long long v = e ? strtoll(e, &end, 10) : -1;
        *cache = (e && end != e && v >= 0) ? (ptrdiff_t)v : -1;
    }
    return *cache;
}

/* - One thread: L2-bytes floats, x + y = 8 x L2 (512 Ki floats on Zen 3). From there on,
 *   ordinary stores pay a read-for-ownership of every y line from L3/DRAM, one core cannot
 *   keep enough of those misses in flight, and streaming wins (modules/02_relu/README.md).
 * - A team (threads > 1): L3-bytes / 8 floats, i.e. x + y = L3 (4 Mi floats here). Two cores
 *   together pull L3 fast enough that keeping y in L3 beats bypassing it for as long as x and
 *   y fit there: ReLU on 2 threads at 2 Mi floats took 326 us plain vs 432 us streamed; at
 *   4 Mi, 1430 us plain vs 952 us streamed (LayerNorm: modules/03_layernorm/README.md). */
ptrdiff_t kl_stream_min_default(int threads) {
    return threads > 1 ? (ptrdiff_t)(kl_cpu_cache_bytes(3) / 8) : (ptrdiff_t)kl_cpu_cache_bytes(2);
}
