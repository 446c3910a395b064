/* Tuning knobs the rungs share: the one environment reader, and the rule for when an
 * out-of-place kernel writes y with non-temporal (streaming) stores. */
#include "variants.h"

#include <errno.h>
#include <stdlib.h>

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

/* Ordinary stores read each line of y before writing it (read for ownership); streaming
 * stores do not, but leave y out of cache for whoever reads it next.
 * - One thread: stream from L2-bytes floats on, i.e. once x + y pass 8 x L2. Beyond that one
 *   core cannot keep enough read-for-ownership misses in flight to hide them, and streaming
 *   wins.
 * - A team (threads > 1): stream from L3-bytes / 8 floats on, i.e. once x + y pass L3. Several
 *   cores pull from L3 fast enough that keeping y there is worth more than skipping the reads,
 *   for as long as x and y fit.
 * The lessons measure both crossovers on the machine they run on (modules/02_relu/README.md,
 * modules/03_layernorm/README.md); env KL_RELU_NT_MIN / KL_LAYERNORM_NT_MIN override. */
ptrdiff_t kl_stream_min_default(int threads) {
    return threads > 1 ? (ptrdiff_t)(kl_cpu_cache_bytes(3) / 8) : (ptrdiff_t)kl_cpu_cache_bytes(2);
}
