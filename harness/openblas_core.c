#include "openblas_core.h"

#include <cpuid.h>
#include <stddef.h>
#include <strings.h>

int kl_openblas_core_class(const char *core) {
    static const char *const avx512[] = {"skylakex", "cooperlake", "sapphirerapids"};
    static const char *const avx2[] = {"haswell", "zen", "skylake"};
    static const char *const avx[] = {"sandybridge", "bulldozer", "piledriver", "steamroller",
                                      "excavator"};
    if (!core) return 0;
    for (size_t i = 0; i < sizeof avx512 / sizeof *avx512; i++)
        if (strcasecmp(core, avx512[i]) == 0) return 3;
    for (size_t i = 0; i < sizeof avx2 / sizeof *avx2; i++)
        if (strcasecmp(core, avx2[i]) == 0) return 2;
    for (size_t i = 0; i < sizeof avx / sizeof *avx; i++)
        if (strcasecmp(core, avx[i]) == 0) return 1;
    return 0;
}

const char *kl_openblas_core_for(const char *auto_core, int cpu_class, int amd) {
    if (kl_openblas_core_class(auto_core) >= cpu_class) return NULL;
    if (cpu_class >= 3) return "SkylakeX";
    if (cpu_class == 2) return amd ? "Zen" : "Haswell";
    return NULL; /* no AVX2: OpenBLAS's own choice is as good as any we could name */
}

int kl_openblas_cpu_class(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
        return 3;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 2;
    return __builtin_cpu_supports("avx") ? 1 : 0;
}

int kl_openblas_cpu_is_amd(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return 0;
    return b == 0x68747541u && d == 0x69746e65u && c == 0x444d4163u; /* "AuthenticAMD" */
}
