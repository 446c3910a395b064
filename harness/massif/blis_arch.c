/* See blis_arch.h. */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "blis_arch.h"

#include <blis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

int kl_blis_choose_arch(char *why, size_t cap) {
    char dummy[1];
    if (!why) why = dummy, cap = sizeof dummy;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
        snprintf(why, cap, "AVX-512 F+BW+DQ+VL");
        return BLIS_ARCH_SKX;
    }
    unsigned a = 0, b = 0, c = 0, d = 0, family = 0;
    char vendor[13] = {0};
    if (__get_cpuid(0, &a, &b, &c, &d)) {
        memcpy(vendor, &b, 4), memcpy(vendor + 4, &d, 4), memcpy(vendor + 8, &c, 4);
    }
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        family = (a >> 8) & 0xf;
        if (family == 0xf) family += (a >> 20) & 0xff;
    }
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    int amd = strcmp(vendor, "AuthenticAMD") == 0;
    if (amd && avx2 && family >= 0x19) {
        snprintf(why, cap, "AMD family 0x%x, AVX2+FMA", family);
        return BLIS_ARCH_ZEN3;
    }
    if (amd && avx2 && family == 0x17) {
        snprintf(why, cap, "AMD family 0x%x, AVX2+FMA", family);
        return BLIS_ARCH_ZEN2;
    }
    if (avx2) {
        snprintf(why, cap, "AVX2+FMA");
        return BLIS_ARCH_HASWELL;
    }
#endif
    snprintf(why, cap, "no AVX2+FMA: left to BLIS");
    return -1;
}

void kl_blis_prepare(char *how, size_t cap) {
    char dummy[1], why[64];
    if (!how) how = dummy, cap = sizeof dummy;
    const char *user = getenv("BLIS_ARCH_TYPE");
    if (user && *user) {
        snprintf(how, cap, "BLIS_ARCH_TYPE=%s set by the user", user);
    } else {
        int arch = kl_blis_choose_arch(why, sizeof why);
        if (arch >= 0) {
            char value[16];
            snprintf(value, sizeof value, "%d", arch);
            setenv("BLIS_ARCH_TYPE", value, 0);
            snprintf(how, cap, "BLIS_ARCH_TYPE=%d (%s)", arch, why);
        } else {
            snprintf(how, cap, "auto-detected by BLIS (%s)", why);
        }
    }
    bli_init(); /* bli_arch_query_id() is only safe after this */
}
