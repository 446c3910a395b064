/* Cache blocking for the packed matmul rungs. The rule (Goto & van de Geijn 2008; BLIS):
 *
 *   KC: the KC x NR sliver of packed B is reused by every MR x KC micro-panel of A, so it
 *       should live in L1. Give it half of L1; the other half holds the A micro-panel being
 *       streamed in (MR x KC, MR < NR so it is smaller) and the C tile.
 *         KC = (L1 / 2) / (NR * 4 bytes)             Zen 3, 6x16: 32 KiB / 2 / 64 = 256
 *   MC: the MC x KC packed block of A is reused by every NR sliver of B, so it lives in L2.
 *       Give it half of L2; the rest holds B slivers passing through and C tiles.
 *         MC = (L2 / 2) / (KC * 4 bytes), rounded down to a multiple of MR
 *                                                    Zen 3: 512 KiB / 2 / 1 KiB = 256 -> 252
 *   NC: the KC x NC packed panel of B is reused by every MC block of A, so it lives in L3,
 *       which both cores share. Give it a quarter of L3 (other cores' data, A and C share it).
 *         NC = (L3 / 4) / (KC * 4 bytes), rounded down to a multiple of NR
 *                                                    Zen 3: 32 MiB / 4 / 1 KiB = 8192
 *
 * kl_cpu_cache_bytes() reads sysfs first (sysconf() reports L3 as 256 MiB in some VMs, the
 * host's total); L3 is also capped at 64 MiB (the largest slice one core reaches on current x86).
 * KL_MATMUL_MC / KL_MATMUL_KC / KL_MATMUL_NC override each block for tuning (rounded to
 * MR / NR multiples). */
#include "blocking.h"

#include "matmul.h"

#include <stdatomic.h>
#include <stdlib.h>

static size_t l3_bytes(void) {
    const size_t bytes = kl_cpu_cache_bytes(3), cap = (size_t)64 << 20; /* see the rule above */
    return bytes < cap ? bytes : cap;
}

static ptrdiff_t env_or(const char *name, ptrdiff_t fallback) {
    ptrdiff_t v = kl_env_size(name, 1, (1 << 20) - 1, NULL);
    return v > 0 ? v : fallback;
}

static ptrdiff_t round_down(ptrdiff_t v, ptrdiff_t to) { return v < to ? to : v / to * to; }

static kl_mm_blocking compute(ptrdiff_t mr, ptrdiff_t nr) {
    const ptrdiff_t f = (ptrdiff_t)sizeof(float);
    kl_mm_blocking b = {mr, nr, 0, 0, 0};
    b.kc = env_or("KL_MATMUL_KC", (ptrdiff_t)kl_cpu_cache_bytes(1) / 2 / (nr * f));
    b.kc = round_down(b.kc, 8); /* a multiple of the micro-kernels' k unroll (4) */
    b.mc = round_down(env_or("KL_MATMUL_MC", (ptrdiff_t)kl_cpu_cache_bytes(2) / 2 / (b.kc * f)), mr);
    b.nc = round_down(env_or("KL_MATMUL_NC", (ptrdiff_t)l3_bytes() / 4 / (b.kc * f)), nr);
    return b;
}

/* A few micro-kernel shapes exist (scalar, AVX2, AVX-512); cache each one's blocking.
 * A spin lock guards filling a slot (first calls only); reads of a ready slot take no lock. */
#define SLOTS 4
static struct { int ready; ptrdiff_t mr, nr; kl_mm_blocking b; } cache[SLOTS];
static atomic_flag lock = ATOMIC_FLAG_INIT;

kl_mm_blocking kl_mm_blocking_for(ptrdiff_t mr, ptrdiff_t nr) {
    for (int i = 0; i < SLOTS; i++)
        if (__atomic_load_n(&cache[i].ready, __ATOMIC_ACQUIRE) && cache[i].mr == mr &&
            cache[i].nr == nr)
            return cache[i].b;
    kl_mm_blocking b = compute(mr, nr);
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {}
    for (int i = 0; i < SLOTS; i++) {
        if (cache[i].ready && cache[i].mr == mr && cache[i].nr == nr) break;
        if (!cache[i].ready) {
            cache[i].mr = mr;
            cache[i].nr = nr;
            cache[i].b = b;
            __atomic_store_n(&cache[i].ready, 1, __ATOMIC_RELEASE);
            break;
        }
    }
    atomic_flag_clear_explicit(&lock, memory_order_release);
    return b;
}

size_t kl_mm_blocking_list(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t *sizes, size_t cap) {
    kl_mm_blocking b = kl_mm_blocking_for(mr, nr);
    const ptrdiff_t all[5] = {b.mr, b.nr, b.mc, b.kc, b.nc};
    for (size_t i = 0; i < cap && i < 5; i++) sizes[i] = all[i];
    return 5;
}
