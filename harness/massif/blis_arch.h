/* Which BLIS sub-configuration this CPU should run, in plain C (no Google Benchmark), so the
 * Massif workload and any other C program make the same choice as kl_bench.
 *
 * Debian's BLIS 0.9.0 falls back to `generic` (~5x slower) on CPUs it does not recognise, so
 * the choice is made from CPUID before BLIS's first call and handed to BLIS through the
 * environment variable BLIS_ARCH_TYPE (values are BLIS's enum arch_t):
 *   AVX-512 F+BW+DQ+VL           -> 0 (skx)
 *   AMD family >= 0x19, AVX2+FMA -> 6 (zen3)
 *   AMD family 0x17, AVX2+FMA    -> 7 (zen2)
 *   other AVX2+FMA               -> 3 (haswell)
 *   otherwise                    -> left to BLIS
 * skx is never chosen without AVX-512: it dies with SIGILL. */
#ifndef KL_BLIS_ARCH_H
#define KL_BLIS_ARCH_H

#include <stddef.h>

/* The arch_t value for this CPU, or -1 to leave the choice to BLIS. Writes a short reason
 * ("AMD family 0x19, AVX2+FMA") into why (at most cap bytes) when why is not NULL. */
int kl_blis_choose_arch(char *why, size_t cap);

/* Sets BLIS_ARCH_TYPE from kl_blis_choose_arch() unless the user already set it, then calls
 * bli_init(). Call once before any other BLIS call. Writes how the choice was made into how. */
void kl_blis_prepare(char *how, size_t cap);

#endif
