#include "kernellab.h"

const char *kl_status_str(kl_status s) {
    switch (s) {
    case KL_OK: return "ok";
    case KL_EINVAL: return "invalid argument";
    case KL_ENOMEM: return "out of memory";
    case KL_EUNSUPPORTED: return "not supported on this CPU or build, or not implemented yet";
    case KL_ENOTFOUND: return "no variant of that name";
    case KL_ETHREADS: return "the threads could not be started";
    }
    return "unknown status";
}

static const char *g_stub_reached; /* the first stub reached since the reset, or NULL */

kl_status kl_not_implemented(const char *where) {
    const char *none = NULL; /* keep the first stub reached: the first thing to write */
    __atomic_compare_exchange_n(&g_stub_reached, &none, where ? where : "a stub", 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
    return KL_EUNSUPPORTED;
}

const char *kl_stub_reached(void) { return __atomic_load_n(&g_stub_reached, __ATOMIC_RELAXED); }

void kl_stub_reset(void) { __atomic_store_n(&g_stub_reached, NULL, __ATOMIC_RELAXED); }

const char *kl_version(void) { return KL_VERSION; }
