// LayerNorm: every available registry variant over rows x cols, eps 1e-5, mean and rstd written.
// Byte model (GBps): read x, write y (rows*cols floats each), read gamma and beta once (cols
// each), write mean and rstd (rows each): 4 (2 rows cols + 2 cols + 2 rows) bytes per call.
// Baselines at the same shape and threads (rows split evenly across threads):
//   blis_l1: BLIS has no LayerNorm and no elementwise product, so per row it is
//     sum  = bli_sdotv(x, ones)            mean = sum / cols
//     y    = bli_scopyv(x); bli_saxpyv(-mean, ones, y)      (y = x - mean)
//     ss   = bli_sdotv(y, y)               rstd = 1 / sqrt(ss / cols + eps)
//     bli_sscalv(rstd, y)                  (y = (x - mean) rstd)
//     y[c] = y[c] * gamma[c] + beta[c]     (plain C loop)
//     i.e. the two-pass algorithm with BLIS doing every whole-row pass but the last;
//   memcpy: a plain copy of x into y (8 rows cols bytes), the bandwidth roof.
// Traffic bounds (kind "roof" in the report): LayerNorm's own loads and stores with none of its
// arithmetic, per row, AVX2 + FMA with ordinary stores (only where kl_cpu_isa() has AVX2). A
// kernel making the same passes and keeping y in cache cannot beat them, so they show what the
// memory system allows at each shape (one that streams y can: the rungs do from 8 x L2 on one
// thread and past L3 for a team, kernels/tuning.c):
//   traffic_1pass: y = x * gamma + beta            (x read once: the least any LayerNorm moves)
//   traffic_2pass: sum(x), then y = x * gamma + beta (x read twice, as a kernel must when a
//                  row and gamma/beta do not fit L1 together between its statistics and y)
#include <blis.h>

#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "common.h"
#include "reference.h"

namespace klb {
namespace {

constexpr float kEps = 1e-5f;

struct LnFixture : Fixture {
    std::ptrdiff_t rows, cols;
    FloatBuf x{nullptr, std::free}, y{nullptr, std::free}, gamma{nullptr, std::free},
        beta{nullptr, std::free}, mean{nullptr, std::free}, rstd{nullptr, std::free},
        ones{nullptr, std::free};
};

LnFixture *make(std::ptrdiff_t rows, std::ptrdiff_t cols) {
    auto *f = new LnFixture;
    f->rows = rows, f->cols = cols;
    f->x = alloc_floats(rows * cols), f->y = alloc_floats(rows * cols);
    f->gamma = alloc_floats(cols), f->beta = alloc_floats(cols), f->ones = alloc_floats(cols);
    f->mean = alloc_floats(rows), f->rstd = alloc_floats(rows);
    fill_uniform(f->x.get(), rows * cols, 5, -2, 3);  // a nonzero mean, as activations have
    fill_uniform(f->gamma.get(), cols, 6, 0.5, 1.5);
    fill_uniform(f->beta.get(), cols, 7, -0.5, 0.5);
    for (std::ptrdiff_t c = 0; c < cols; c++) f->ones[c] = 1.0f;
    std::memset(f->y.get(), 0xff, sizeof(float) * rows * cols);  // NaN if left unwritten
    return f;
}

std::string check(const LnFixture &f) {
    std::ptrdiff_t where = -1;
    double w = kl_check_layernorm(f.rows, f.cols, f.x.get(), f.gamma.get(), f.beta.get(), kEps,
                                  f.y.get(), f.mean.get(), f.rstd.get(), &where);
    return check_message(w, where);
}

double bytes(std::ptrdiff_t rows, std::ptrdiff_t cols) {
    return 4.0 * (2.0 * rows * cols + 2.0 * cols + 2.0 * rows);
}

void bm_variant(benchmark::State &st, const kl_variant *v, std::ptrdiff_t rows,
                std::ptrdiff_t cols, int t, const std::string &key) {
    kl_set_num_threads(t);
    auto run = [&](LnFixture &f) {
        return kl_layernorm_run(v, rows, cols, f.x.get(), f.gamma.get(), f.beta.get(), kEps,
                                f.y.get(), f.mean.get(), f.rstd.get());
    };
    auto &f = fixture<LnFixture>(key, [&] {
        auto *f = make(rows, cols);
        kl_status r = run(*f);
        f->error = r != KL_OK ? std::string("kernel returned ") + kl_status_str(r) : check(*f);
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        run(f);
        benchmark::ClobberMemory();
    }
    st.counters["GBps"] = rate(1e-9 * bytes(rows, cols));
}

// The BLIS level-1 composition documented at the top of this file, rows [lo, hi).
void blis_rows(LnFixture &f, std::ptrdiff_t lo, std::ptrdiff_t hi) {
    const dim_t n = f.cols;
    float *ones = f.ones.get();
    for (std::ptrdiff_t r = lo; r < hi; r++) {
        float *x = f.x.get() + r * n, *y = f.y.get() + r * n;
        float sum = 0, ss = 0;
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, n, x, 1, ones, 1, &sum);
        float mean = sum / (float)n, neg_mean = -mean;
        bli_scopyv(BLIS_NO_CONJUGATE, n, x, 1, y, 1);
        bli_saxpyv(BLIS_NO_CONJUGATE, n, &neg_mean, ones, 1, y, 1);
        bli_sdotv(BLIS_NO_CONJUGATE, BLIS_NO_CONJUGATE, n, y, 1, y, 1, &ss);
        float rstd = 1.0f / std::sqrt(ss / (float)n + kEps);
        bli_sscalv(BLIS_NO_CONJUGATE, n, &rstd, y, 1);
        const float *g = f.gamma.get(), *b = f.beta.get();
        for (dim_t c = 0; c < n; c++) y[c] = y[c] * g[c] + b[c];
        f.mean[r] = mean, f.rstd[r] = rstd;
    }
}

// y[cols] = x * g + b, one FMA per 8 floats (the tail in scalar fmaf: the same rounding).
__attribute__((target("avx2,fma"))) void scale_shift_avx2(std::ptrdiff_t cols, const float *x,
                                                         const float *g, const float *b, float *y) {
    std::ptrdiff_t c = 0;
    for (; c + 8 <= cols; c += 8)
        _mm256_storeu_ps(y + c, _mm256_fmadd_ps(_mm256_loadu_ps(x + c), _mm256_loadu_ps(g + c),
                                                _mm256_loadu_ps(b + c)));
    for (; c < cols; c++) y[c] = std::fma(x[c], g[c], b[c]);
}

// sum of x[cols], 4 accumulators so the adds do not wait on each other
__attribute__((target("avx2"))) float sum_avx2(std::ptrdiff_t cols, const float *x) {
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    std::ptrdiff_t c = 0;
    for (; c + 32 <= cols; c += 32) {
        s0 = _mm256_add_ps(s0, _mm256_loadu_ps(x + c));
        s1 = _mm256_add_ps(s1, _mm256_loadu_ps(x + c + 8));
        s2 = _mm256_add_ps(s2, _mm256_loadu_ps(x + c + 16));
        s3 = _mm256_add_ps(s3, _mm256_loadu_ps(x + c + 24));
    }
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    float s = 0;
    for (float v : lanes) s += v;
    for (; c < cols; c++) s += x[c];
    return s;
}

enum class Base { blis_l1, memcpy, traffic_1pass, traffic_2pass };

void base_chunk(Base b, LnFixture &f, int t, int tid) {
    std::ptrdiff_t lo, hi;
    split(f.rows, t, tid, &lo, &hi);
    if (b == Base::blis_l1) return blis_rows(f, lo, hi);
    if (b == Base::memcpy)
        return (void)std::memcpy(f.y.get() + lo * f.cols, f.x.get() + lo * f.cols,
                                 sizeof(float) * (hi - lo) * f.cols);
    for (std::ptrdiff_t r = lo; r < hi; r++) {
        const float *x = f.x.get() + r * f.cols;
        // the row sum goes to mean[] (unused by the bounds) so the first pass is not dead code
        if (b == Base::traffic_2pass) f.mean[r] = sum_avx2(f.cols, x);
        scale_shift_avx2(f.cols, x, f.gamma.get(), f.beta.get(), f.y.get() + r * f.cols);
    }
}

// The bounds' y against x * gamma + beta in scalar fmaf (bit for bit), and 2pass's sums: 32
// float lanes of cols/32 terms each, then 8 more adds, so the error is at most
// (cols/32 + 8) u sum|x| (u = FLT_EPSILON / 2); the check allows twice that.
std::string check_traffic(const LnFixture &f, Base b) {
    for (std::ptrdiff_t r = 0; r < f.rows; r++) {
        const float *x = f.x.get() + r * f.cols, *y = f.y.get() + r * f.cols;
        double sum = 0, abs_sum = 0;
        for (std::ptrdiff_t c = 0; c < f.cols; c++) {
            if (y[c] != std::fma(x[c], f.gamma[c], f.beta[c]))
                return "wrong result: y != x * gamma + beta at row " + std::to_string(r);
            sum += x[c], abs_sum += std::fabs(x[c]);
        }
        double tol = (f.cols / 32.0 + 8) * FLT_EPSILON * abs_sum;
        if (b == Base::traffic_2pass && !(std::fabs(f.mean[r] - sum) <= tol))
            return "wrong result: sum of row " + std::to_string(r) + " off";
    }
    return "";
}

std::string check_base(const LnFixture &f, Base b) {
    switch (b) {
    case Base::blis_l1: return check(f);
    case Base::memcpy:
        return std::memcmp(f.x.get(), f.y.get(), sizeof(float) * f.rows * f.cols) != 0
                   ? "wrong result: copy differs from its source" : "";
    default: return check_traffic(f, b);
    }
}

void bm_base(benchmark::State &st, Base b, std::ptrdiff_t rows, std::ptrdiff_t cols, int t,
             const std::string &key) {
    auto &f = fixture<LnFixture>(key, [&] {
        auto *f = make(rows, cols);
        run_threads(t, [&](int tid) { base_chunk(b, *f, t, tid); });
        f->error = check_base(*f, b);
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        run_threads(t, [&](int tid) { base_chunk(b, f, t, tid); });
        benchmark::ClobberMemory();
    }
    st.counters["GBps"] = rate(1e-9 * (b == Base::memcpy ? 8.0 * rows * cols : bytes(rows, cols)));
}

// (rows, cols): x + y fill half of L2, half of L3, and 4x L3 (DRAM), at transformer widths.
std::vector<std::pair<std::ptrdiff_t, std::ptrdiff_t>> shapes() {
    std::vector<std::pair<std::ptrdiff_t, std::ptrdiff_t>> out;
    auto rows_for = [](std::size_t ws, std::ptrdiff_t cols) {
        return std::max<std::ptrdiff_t>(1, (std::ptrdiff_t)(ws / 8 / cols));
    };
    if (size_set() == SizeSet::quick) {
        out.push_back({4, 768});
        out.push_back({rows_for(cache_bytes(2) / 2, 768), 768});
        return out;
    }
    std::size_t dram = std::max<std::size_t>(4 * cache_bytes(3), 64 << 20);
    for (std::size_t ws : {cache_bytes(2) / 2, cache_bytes(3) / 2, dram})
        for (std::ptrdiff_t cols : {768, 4096}) out.push_back({rows_for(ws, cols), cols});
    return out;
}

}  // namespace

void register_layernorm() {
    for (auto [rows, cols] : shapes()) {
        std::vector<std::pair<std::string, std::string>> dims = {
            {"rows", std::to_string(rows)}, {"cols", std::to_string(cols)},
            {"ws", level_of(8 * rows * cols)}};
        for (std::size_t i = 0; i < kl_variant_count(); i++) {
            const kl_variant *v = kl_variant_at(i);
            if (v->op != KL_OP_LAYERNORM || !kl_variant_available(v)) continue;
            for (int t : thread_counts(v->threaded)) {
                std::string name = bench_name("layernorm", v->name, dims, t);
                auto *b = benchmark::RegisterBenchmark(name.c_str(), bm_variant, v, rows, cols, t, name);
                b->Unit(benchmark::kMicrosecond);
                b->UseRealTime(); // like BLIS and the ceilings: one clock for every ratio
            }
        }
        std::vector<std::pair<Base, const char *>> bases = {{Base::blis_l1, "blis_l1"}, {Base::memcpy, "memcpy"}};
        if (kl_cpu_isa() >= KL_ISA_AVX2)
            bases.insert(bases.end(), {{Base::traffic_1pass, "traffic_1pass"}, {Base::traffic_2pass, "traffic_2pass"}});
        for (auto [base, label] : bases)
            for (int t : thread_counts(true)) {
                std::string name = bench_name("layernorm", label, dims, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_base, base, rows, cols, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
            }
    }
}

}  // namespace klb
