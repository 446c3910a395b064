#include "blis_setup.h"

#include <blis.h>
#include <cpuid.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <benchmark/benchmark.h>

namespace klb {

// Debian's BLIS 0.9.0 falls back to `generic` (~5x slower) on CPUs it does not know (Zen 5).
// Choose the best sub-configuration this CPU can run; values are BLIS's enum arch_t.
// Never 0 (skx) without AVX-512: it dies with SIGILL.
static int choose_arch(std::string *why) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        *why = "AVX-512 F+BW+DQ+VL";
        return BLIS_ARCH_SKX;
    }
    unsigned a = 0, b = 0, c = 0, d = 0;
    char vendor[13] = {0};
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        std::memcpy(vendor, &b, 4);
        std::memcpy(vendor + 4, &d, 4);
        std::memcpy(vendor + 8, &c, 4);
    }
    unsigned family = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        family = (a >> 8) & 0xf;
        if (family == 0xf) family += (a >> 20) & 0xff;
    }
    bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    bool amd = std::strcmp(vendor, "AuthenticAMD") == 0;
    char fam[16];
    std::snprintf(fam, sizeof fam, "0x%x", family);
    if (amd && avx2 && family >= 0x19) {
        *why = std::string("AMD family ") + fam + ", AVX2+FMA";
        return BLIS_ARCH_ZEN3;
    }
    if (amd && avx2 && family == 0x17) {
        *why = std::string("AMD family ") + fam + ", AVX2+FMA";
        return BLIS_ARCH_ZEN2;
    }
    if (avx2) {
        *why = "AVX2+FMA";
        return BLIS_ARCH_HASWELL;
    }
#endif
    *why = "no AVX2+FMA: left to BLIS";
    return -1;
}

void blis_prepare() {
    std::string how;
    const char *user = std::getenv("BLIS_ARCH_TYPE");
    bool forced = false;
    if (user && *user) {
        how = std::string("BLIS_ARCH_TYPE=") + user + " set by the user";
        forced = true;
    } else {
        std::string why;
        int arch = choose_arch(&why);
        if (arch >= 0) {
            setenv("BLIS_ARCH_TYPE", std::to_string(arch).c_str(), 0);
            how = "BLIS_ARCH_TYPE=" + std::to_string(arch) + " set by kl_bench (" + why + ")";
            forced = true;
        } else {
            how = "auto-detected by BLIS (" + why + ")";
        }
    }
    bli_init();  // bli_arch_query_id() before init aborts
    benchmark::AddCustomContext("blis_version", bli_info_get_version_str());
    benchmark::AddCustomContext("blis_arch", bli_arch_string(bli_arch_query_id()));
    benchmark::AddCustomContext("blis_arch_forced", forced ? "true" : "false");
    benchmark::AddCustomContext("blis_arch_how", how);
    benchmark::AddCustomContext("blis_openmp", bli_info_get_enable_openmp() ? "true" : "false");
}

}  // namespace klb
