#define _GNU_SOURCE /* sysconf cache-size names */
/* Runtime CPU detection, so one binary picks AVX-512, AVX2+FMA or scalar kernels. */
#include "kernellab.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static kl_isa detect_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* The skx set: F, CD, BW, DQ, VL. libgcc also checks that the OS saves the zmm state. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma"))
        return KL_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return KL_ISA_AVX2;
#endif
    return KL_ISA_SCALAR;
}

/* KL_ISA caps the ISA (never raises it), so fallbacks can be tested on a big machine. */
static kl_isa isa_cap_from_env(void) {
    const char *cap = getenv("KL_ISA");
    if (!cap) return KL_ISA_COUNT;
    for (int i = 0; i < KL_ISA_COUNT; i++)
        if (strcmp(cap, kl_isa_name((kl_isa)i)) == 0) return (kl_isa)i;
    return KL_ISA_COUNT;
}

kl_isa kl_cpu_isa(void) {
    /* Detection is idempotent, so a benign race between first callers is harmless. */
    static volatile int cached = -1;
    if (cached < 0) {
        kl_isa isa = detect_isa(), cap = isa_cap_from_env();
        cached = (int)(isa < cap ? isa : cap);
    }
    return (kl_isa)cached;
}

const char *kl_isa_name(kl_isa isa) {
    static const char *const names[KL_ISA_COUNT] = {"scalar", "avx2", "avx512"};
    return (unsigned)isa < KL_ISA_COUNT ? names[isa] : "unknown";
}

size_t kl_cpu_cache_bytes(int level) {
    /* Defaults are a common modern x86 core: 32 KiB L1d, 512 KiB L2, 16 MiB shared L3. */
    static const size_t fallback[4] = {0, 32u << 10, 512u << 10, 16u << 20};
    if (level < 1 || level > 3) return 0;
    long v = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    int name = level == 1 ? _SC_LEVEL1_DCACHE_SIZE
             : level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE;
    v = sysconf(name);
#endif
    return v > 0 ? (size_t)v : fallback[level];
}
