#define _GNU_SOURCE /* sysconf cache-size names */
/* Runtime CPU detection, so one binary picks AVX-512, AVX2+FMA or scalar kernels, and the
 * cache sizes every blocking rule is derived from. */
#include "kernellab.h"

#include <fcntl.h>
#include <stdio.h>
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

/* Linux sysfs names the cache one core actually sees: .../cpu0/cache/indexN/{level,type,size,
 * ways_of_associativity,coherency_line_size}, size like "32768K". sysconf can be wrong in VMs:
 * it may report the whole socket's L3 for a core that only sees one slice of it, which would
 * make every L3-derived rule far too big. */
static int sysfs_read(int index, const char *field, char *buf, size_t cap) {
    char path[112];
    snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/%s", index, field);
    /* open/read, not stdio: the first kernel call reads this, and a FILE's heap buffer would
     * show in its Massif peak. */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t got = read(fd, buf, cap - 1);
    close(fd);
    if (got <= 0) return 0;
    buf[got] = '\0';
    return 1;
}

/* The sysfs index of the data (or unified) cache at `level`, or -1. */
static int sysfs_index(int level) {
    char buf[32];
    for (int i = 0; i < 16 && sysfs_read(i, "level", buf, sizeof buf); i++)
        if (atoi(buf) == level && sysfs_read(i, "type", buf, sizeof buf) &&
            strncmp(buf, "Instruction", 11) != 0)
            return i;
    return -1;
}

static size_t sysfs_cache_bytes(int level) {
    char buf[32], unit = 0;
    unsigned long long v = 0;
    int i = sysfs_index(level);
    if (i < 0 || !sysfs_read(i, "size", buf, sizeof buf) || sscanf(buf, "%llu%c", &v, &unit) < 1)
        return 0;
    return (size_t)(v << (unit == 'K' ? 10 : unit == 'M' ? 20 : unit == 'G' ? 30 : 0));
}

/* A whole-number sysfs field of the level's cache, or 0 when absent. */
static int sysfs_cache_int(int level, const char *field) {
    char buf[32];
    int i = sysfs_index(level);
    int v = i >= 0 && sysfs_read(i, field, buf, sizeof buf) ? atoi(buf) : 0;
    return v > 0 ? v : 0;
}

static size_t sysconf_cache_bytes(int level) {
    long v = -1;
#if defined(_SC_LEVEL1_DCACHE_SIZE)
    int name = level == 1 ? _SC_LEVEL1_DCACHE_SIZE
             : level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE;
    v = sysconf(name);
#endif
    return v > 0 ? (size_t)v : 0;
}

/* sysfs, else sysconf, else a common modern x86 core: 32 KiB L1d, 512 KiB L2, 16 MiB L3.
 * Read once per level (every blocking and threshold rule asks). */
static size_t cache_bytes(int level, const char **source) {
    static const size_t fallback[4] = {0, 32u << 10, 512u << 10, 16u << 20};
    static volatile size_t bytes[4];
    static volatile int from[4]; /* 0 unread, 1 sysfs, 2 sysconf, 3 default; benign race */
    static const char *const names[4] = {"", "sysfs", "sysconf", "default"};
    if (level < 1 || level > 3) {
        if (source) *source = "none";
        return 0;
    }
    if (!from[level]) {
        size_t b = sysfs_cache_bytes(level);
        int src = 1;
        if (!b) b = sysconf_cache_bytes(level), src = 2;
        if (!b) b = fallback[level], src = 3;
        bytes[level] = b;
        from[level] = src;
    }
    if (source) *source = names[from[level]];
    return bytes[level];
}

size_t kl_cpu_cache_bytes(int level) { return cache_bytes(level, NULL); }

const char *kl_cpu_cache_source(int level) {
    const char *s;
    cache_bytes(level, &s);
    return s;
}

/* Associativity and line size: sysfs, else what every current x86 core has at that level
 * (64-byte lines; 8-way L1d and L2, 16-way L3). Fully associative caches report 0 ways in
 * sysfs: that reads as the default too. Read once per level. */
int kl_cpu_cache_ways(int level) {
    static const int fallback[4] = {0, 8, 8, 16};
    static volatile int ways[4]; /* 0 unread; benign race */
    if (level < 1 || level > 3) return 0;
    if (!ways[level]) {
        int w = sysfs_cache_int(level, "ways_of_associativity");
        ways[level] = w ? w : fallback[level];
    }
    return ways[level];
}

int kl_cpu_cache_line(int level) {
    static volatile int line[4];
    if (level < 1 || level > 3) return 0;
    if (!line[level]) {
        int b = sysfs_cache_int(level, "coherency_line_size");
        line[level] = b ? b : 64;
    }
    return line[level];
}
