// Matmul: every available registry variant, plus bli_sgemm and OpenBLAS's cblas_sgemm (when
// kl_bench could load it), at the same sizes and threads.
// C[m][n] = 1 * A[m][k] . B[k][n] + 0 * C (beta 0: C is write-only, as in an ML layer).
// Counter GFLOPS = 2 m n k per call.
#include <blis.h>

#include <algorithm>
#include <cstring>

#include "common.h"
#include "openblas_setup.h"
#include "reference.h"

namespace klb {
namespace {

constexpr float kAlpha = 1.0f, kBeta = 0.0f;

struct MatmulFixture : Fixture {
    std::ptrdiff_t m, n, k;
    FloatBuf A{nullptr, std::free}, B{nullptr, std::free}, C{nullptr, std::free};
    FloatBuf C0{nullptr, std::free};
};

std::unique_ptr<MatmulFixture> make(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) {
    auto f = std::make_unique<MatmulFixture>();
    f->m = m, f->n = n, f->k = k;
    f->A = alloc_floats(m * k), f->B = alloc_floats(k * n);
    f->C = alloc_floats(m * n), f->C0 = alloc_floats(m * n);
    fill_uniform(f->A.get(), m * k, 1, -1, 1);
    fill_uniform(f->B.get(), k * n, 2, -1, 1);
    fill_uniform(f->C0.get(), m * n, 3, -1, 1);  // garbage in C: beta 0 must not read it
    std::memcpy(f->C.get(), f->C0.get(), sizeof(float) * m * n);
    return f;
}

// The float64 oracle is O(mnk) with a large constant (~1e8 multiply-adds/s: it walks B down
// its columns). Above 2^27 multiply-adds it checks a subset of rows, every column of each (row
// i of C depends only on row i of A, so a row subset is an exact check of those rows): the
// first and last 8, and rows `step` apart in between, ~2^26 multiply-adds in all (~0.7 s at
// n = 1024 or 2048, where checking every 8th row took 1.5 s and 15 s). step is odd and not a
// multiple of 3, so the checked rows land on every row of a 4-, 6- or 12-row register tile.
std::string check(const MatmulFixture &f) {
    const std::ptrdiff_t m = f.m, n = f.n, k = f.k;
    if ((double)m * n * k <= (double)(1 << 27)) {
        std::ptrdiff_t where;
        double w = kl_check_matmul(m, n, k, kAlpha, f.A.get(), k, f.B.get(), n, kBeta,
                                   f.C0.get(), f.C.get(), n, &where);
        return check_message(w, where);
    }
    const std::ptrdiff_t edge = 8;
    std::ptrdiff_t inner = std::max<std::ptrdiff_t>(8, (1 << 26) / (n * k) - 2 * edge);
    std::ptrdiff_t step = std::max<std::ptrdiff_t>(1, m / inner);
    while (step % 2 == 0 || step % 3 == 0) step++;
    double worst = 0;
    std::ptrdiff_t worst_at = -1;
    for (std::ptrdiff_t i = 0; i < m; i++) {
        if (!(i < edge || i >= m - edge || i % step == 0)) continue;
        std::ptrdiff_t where;
        double w = kl_check_matmul(1, n, k, kAlpha, f.A.get() + i * k, k, f.B.get(), n, kBeta,
                                   f.C0.get() + i * n, f.C.get() + i * n, n, &where);
        if (w > worst || (w != w)) worst = w, worst_at = i * n + where;
    }
    return check_message(worst, worst_at);
}

void bm_variant(benchmark::State &st, const kl_variant *v, std::ptrdiff_t s, int t,
                const std::string &key) {
    kl_set_num_threads(t);
    auto &f = fixture<MatmulFixture>(key, [&] {
        auto f = make(s, s, s);
        kl_status r = kl_matmul_run(v, s, s, s, kAlpha, f->A.get(), s, f->B.get(), s, kBeta,
                                    f->C.get(), s);
        f->error = r != KL_OK ? std::string("kernel returned ") + kl_status_str(r) : check(*f);
        return f.release();
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        kl_matmul_run(v, s, s, s, kAlpha, f.A.get(), s, f.B.get(), s, kBeta, f.C.get(), s);
        benchmark::ClobberMemory();
    }
    st.counters["GFLOPS"] = rate(2e-9 * s * s * s);
}

// Row-major for BLIS: row stride = leading dimension, column stride 1.
void sgemm(MatmulFixture &f) {
    float alpha = kAlpha, beta = kBeta;
    bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, f.m, f.n, f.k, &alpha, f.A.get(), f.k, 1,
              f.B.get(), f.n, 1, &beta, f.C.get(), f.n, 1);
}

void bm_blis(benchmark::State &st, std::ptrdiff_t s, int t, const std::string &key) {
    bli_thread_set_num_threads(t);
    auto &f = fixture<MatmulFixture>(key, [&] {
        auto f = make(s, s, s);
        sgemm(*f);
        f->error = check(*f);
        return f.release();
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        sgemm(f);
        benchmark::ClobberMemory();
    }
    st.counters["GFLOPS"] = rate(2e-9 * s * s * s);
}

void bm_openblas(benchmark::State &st, std::ptrdiff_t s, int t, const std::string &key) {
    openblas_set_threads(t);
    auto &f = fixture<MatmulFixture>(key, [&] {
        auto f = make(s, s, s);
        openblas_sgemm(s, s, s, kAlpha, f->A.get(), s, f->B.get(), s, kBeta, f->C.get(), s);
        f->error = check(*f);
        return f.release();
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        openblas_sgemm(s, s, s, kAlpha, f.A.get(), s, f.B.get(), s, kBeta, f.C.get(), s);
        benchmark::ClobberMemory();
    }
    st.counters["GFLOPS"] = rate(2e-9 * s * s * s);
}

std::vector<std::ptrdiff_t> sizes() {
    if (size_set() == SizeSet::quick) return {16, 17, 64, 100, 128};
    return {16, 17, 32, 64, 96, 100, 128, 256, 257, 512, 1000, 1023, 1024, 2048};
}

// Above this edge the naive rung takes minutes per size; it is left out (report.md says so).
constexpr std::ptrdiff_t kNaiveMax = 512;

// 1023 (a ragged edge in every block) and 2048 (several NC/KC/MC blocks in every loop) run
// only for the fast rungs and BLIS: interchange, blocked and packed take seconds per call
// there and add nothing the 1000 / 1024 rows do not show.
bool slow_rung_skips(std::ptrdiff_t s) { return s == 1023 || s > 1024; }

bool fast_rung(const kl_variant *v) {
    return std::strcmp(v->rung, "simd") == 0 || std::strcmp(v->rung, "openmp") == 0;
}

}  // namespace

void register_matmul() {
    for (std::ptrdiff_t s : sizes()) {
        std::vector<std::pair<std::string, std::string>> dims = {
            {"m", std::to_string(s)}, {"n", std::to_string(s)}, {"k", std::to_string(s)}};
        for (std::size_t i = 0; i < kl_variant_count(); i++) {
            const kl_variant *v = kl_variant_at(i);
            if (v->op != KL_OP_MATMUL || !kl_variant_available(v)) continue;
            if (std::strcmp(v->rung, "naive") == 0 && s > kNaiveMax) continue;
            if (!fast_rung(v) && slow_rung_skips(s)) continue;
            for (int t : thread_counts(v->threaded)) {
                std::string name = bench_name("matmul", v->name, dims, t);
                auto *b = benchmark::RegisterBenchmark(name.c_str(), bm_variant, v, s, t, name);
                b->Unit(benchmark::kMicrosecond);
                b->UseRealTime(); // like BLIS and the ceilings: one clock for every ratio
            }
        }
        for (int t : thread_counts(true)) {
            std::string name = bench_name("matmul", "blis", dims, t);
            benchmark::RegisterBenchmark(name.c_str(), bm_blis, s, t, name)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
            if (!openblas_loaded()) continue;
            name = bench_name("matmul", "openblas", dims, t);
            benchmark::RegisterBenchmark(name.c_str(), bm_openblas, s, t, name)
                ->Unit(benchmark::kMicrosecond)
                ->UseRealTime();
        }
    }
}

}  // namespace klb
