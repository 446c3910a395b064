/* The team size of the OpenMP variants. A team is at most KL_MAX_THREADS, and a size is only
 * accepted once that many threads could be started: libgomp ends the process when it cannot
 * start a team, and no kernellab call may do that. */
#define _POSIX_C_SOURCE 200809L /* pthread */
#include "variants.h"

#include <pthread.h>
#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static atomic_int requested_threads; /* 0 = default */

static void *idle(void *arg) { return arg; }

/* 1 if n - 1 threads besides the caller can be started now (they exit at once). */
static int can_start(int n) {
    pthread_t t[KL_MAX_THREADS];
    int started = 0;
    while (started < n - 1 && pthread_create(&t[started], NULL, idle, NULL) == 0) started++;
    for (int i = 0; i < started; i++) pthread_join(t[i], NULL);
    return started == n - 1;
}

kl_status kl_set_num_threads(int n) {
    if (n < 0 || n > KL_MAX_THREADS) return KL_EINVAL;
    if (n > 1 && n != atomic_load(&requested_threads) && !can_start(n)) return KL_ETHREADS;
    atomic_store(&requested_threads, n);
    return KL_OK;
}

int kl_get_num_threads(void) {
    int n = atomic_load(&requested_threads);
    if (n > 0) return n;
#ifdef _OPENMP
    n = omp_get_max_threads(); /* honours OMP_NUM_THREADS */
    return n < 1 ? 1 : n > KL_MAX_THREADS ? KL_MAX_THREADS : n;
#else
    return 1;
#endif
}

int kl_threads(void) { return kl_get_num_threads(); }
