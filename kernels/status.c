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

const char *kl_version(void) { return KL_VERSION; }
