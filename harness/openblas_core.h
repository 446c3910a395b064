/* Which OpenBLAS core kl_bench asks for, in plain C so a unit test can check the rule.
 *
 * Debian's OpenBLAS is built DYNAMIC_ARCH: at load it picks a kernel set ("core") from CPUID,
 * and on a CPU its table does not know it falls back to an older core (Prescott: SSE3, about
 * a fifth of the AVX-512 speed). The environment variable OPENBLAS_CORETYPE, read once when
 * the library loads, overrides the choice. kl_bench first lets OpenBLAS choose (in a probe),
 * and overrides only when the core it chose uses a narrower vector ISA than the CPU has:
 *   AVX-512 F+BW+DQ+VL     -> SkylakeX
 *   AVX2+FMA, AMD          -> Zen
 *   AVX2+FMA, otherwise    -> Haswell
 * A core at or above the CPU's ISA (e.g. Cooperlake on an AVX-512 CPU with bf16) is kept. */
#ifndef KL_OPENBLAS_CORE_H
#define KL_OPENBLAS_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Vector ISA class of an OpenBLAS core name (case-insensitive): 3 AVX-512, 2 AVX2+FMA,
 * 1 AVX, 0 older or unknown. */
int kl_openblas_core_class(const char *core);

/* The OPENBLAS_CORETYPE value to set, or NULL to keep auto_core. cpu_class: the CPU's class
 * on the scale above (3 with AVX-512 F+BW+DQ+VL, 2 with AVX2+FMA, else lower); amd: the vendor
 * is AuthenticAMD. auto_core NULL or "" (the probe failed) counts as class 0. */
const char *kl_openblas_core_for(const char *auto_core, int cpu_class, int amd);

/* This CPU's class and vendor, from CPUID. */
int kl_openblas_cpu_class(void);
int kl_openblas_cpu_is_amd(void);

#ifdef __cplusplus
}
#endif

#endif
