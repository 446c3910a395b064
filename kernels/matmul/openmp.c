/* Rung 6: the SIMD rung on every core. The five-loop driver (gemm.c) runs an OpenMP team that
 * packs the shared B panel together and splits the MC blocks of A (the 3rd loop) between
 * threads; gemm.c says why that loop. Runs the micro-kernel of matmul's dispatch table
 * (dispatch.c): AVX-512 when the CPU has it, else AVX2. Small problems run the direct (no
 * packing) path, on a team when there is enough work, else on one thread: a team costs more
 * than the whole multiply there. A team's direct path reaches further than one thread's: each
 * thread needs only its share of A in its own L2 (kl_matmul_team_direct_ok, gemm.h). */
#include "gemm.h"

#ifdef KL_HAVE_SIMD /* compiled without SIMD flags: it only calls kl_matmul_dispatch()'s kernels */

#ifdef _OPENMP
#include <omp.h>
#endif

kl_status kl_matmul_openmp(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *A,
                           ptrdiff_t lda, const float *B, ptrdiff_t ldb, float beta, float *C,
                           ptrdiff_t ldc) {
    /* BEGIN SOLUTION */
    int threads = kl_threads();
    const kl_gemm_kernel *uk = kl_gemm_openmp_kernel();
    /* direct while each thread's share of A (and all of B) passes the rule (gemm.h) */
    if (!kl_matmul_team_direct_ok(kl_matmul_dispatch()->isa, m, n, k, uk->mr, threads))
        return kl_gemm(uk, threads, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    kl_matmul_fn direct = kl_matmul_dispatch()->direct;
    if (threads < 2 || !kl_matmul_team_pays(m, n, k))
        return direct(m, n, k, alpha, A, lda, B, ldb, beta, C, ldc);
    /* Direct path on a team: each thread takes whole MR panels of rows of C (or NR slivers
     * of columns when m is too short to split), so no two threads touch the same tile. */
    int by_rows = kl_matmul_team_by_rows(m, uk->mr, threads);
    ptrdiff_t unit = by_rows ? uk->mr : uk->nr, units = ((by_rows ? m : n) + unit - 1) / unit;
    if (threads > units) threads = (int)units;
    int bad = 0;
#pragma omp parallel num_threads(threads) reduction(| : bad)
    {
        int tid = 0, nth = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        nth = omp_get_num_threads();
#endif
        ptrdiff_t lo = units * tid / nth * unit, hi = units * (tid + 1) / nth * unit;
        if (by_rows) {
            if (hi > m) hi = m;
            if (hi > lo)
                bad |= direct(hi - lo, n, k, alpha, A + lo * lda, lda, B, ldb, beta, C + lo * ldc,
                              ldc) != KL_OK;
        } else {
            if (hi > n) hi = n;
            if (hi > lo)
                bad |= direct(m, hi - lo, k, alpha, A, lda, B + lo, ldb, beta, C + lo, ldc) !=
                       KL_OK;
        }
    }
    return bad ? KL_EUNSUPPORTED : KL_OK;
    /* END SOLUTION */
}

/* Its scratch and blocking functions are in gemm.c, compiled without AVX flags. */

#endif /* KL_HAVE_SIMD */
