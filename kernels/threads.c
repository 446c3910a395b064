#include "variants.h"

#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static atomic_int requested_threads; /* 0 = default */

kl_status kl_set_num_threads(int n) {
    if (n < 0) return KL_EINVAL;
    atomic_store(&requested_threads, n);
    return KL_OK;
}

int kl_get_num_threads(void) {
    int n = atomic_load(&requested_threads);
    if (n > 0) return n;
#ifdef _OPENMP
    return omp_get_max_threads(); /* honours OMP_NUM_THREADS */
#else
    return 1;
#endif
}

int kl_threads(void) { return kl_get_num_threads(); }
