// ReLU: every available registry variant, y = max(x, 0) out of place, n floats.
// Byte model (GBps): the compulsory traffic, read x + write y = 8 n bytes per call (a
// write-allocate that also reads y is not counted: it is the kernel's cost, not the work).
// Baselines at the same n and threads (n split evenly across threads):
//   blis_copyv: bli_scopyv x -> y, BLIS's own level-1 moving the same 8 n bytes (BLIS has no ReLU);
//   memcpy:     a plain copy of the same bytes, the bandwidth roof.
#include <blis.h>

#include <algorithm>
#include <cstring>

#include "common.h"
#include "reference.h"

namespace klb {
namespace {

struct ReluFixture : Fixture {
    std::ptrdiff_t n;
    FloatBuf x{nullptr, std::free}, y{nullptr, std::free};
};

ReluFixture *make(std::ptrdiff_t n) {
    auto *f = new ReluFixture;
    f->n = n;
    f->x = alloc_floats(n), f->y = alloc_floats(n);
    fill_uniform(f->x.get(), n, 4, -1, 1);
    std::memset(f->y.get(), 0xff, sizeof(float) * n);  // NaN: an unwritten y fails the check
    return f;
}

void bm_variant(benchmark::State &st, const kl_variant *v, std::ptrdiff_t n, int t,
                const std::string &key) {
    kl_set_num_threads(t);
    auto &f = fixture<ReluFixture>(key, [&] {
        auto *f = make(n);
        kl_status r = kl_relu_run(v, n, f->x.get(), f->y.get());
        std::ptrdiff_t where = -1;
        f->error = r != KL_OK ? std::string("kernel returned ") + kl_status_str(r)
                              : check_message(kl_check_relu(n, f->x.get(), f->y.get(), &where), where);
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        kl_relu_run(v, n, f.x.get(), f.y.get());
        benchmark::ClobberMemory();
    }
    st.counters["GBps"] = rate(8e-9 * n);
}

enum class Base { blis_copyv, memcpy };

void copy_chunk(Base b, ReluFixture &f, int t, int tid) {
    std::ptrdiff_t lo, hi;
    split(f.n, t, tid, &lo, &hi);
    if (b == Base::blis_copyv)
        bli_scopyv(BLIS_NO_CONJUGATE, hi - lo, f.x.get() + lo, 1, f.y.get() + lo, 1);
    else
        std::memcpy(f.y.get() + lo, f.x.get() + lo, sizeof(float) * (hi - lo));
}

void bm_base(benchmark::State &st, Base b, std::ptrdiff_t n, int t, const std::string &key) {
    auto &f = fixture<ReluFixture>(key, [&] {
        auto *f = make(n);
        run_threads(t, [&](int tid) { copy_chunk(b, *f, t, tid); });
        if (std::memcmp(f->x.get(), f->y.get(), sizeof(float) * n) != 0)
            f->error = "wrong result: copy differs from its source";
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        run_threads(t, [&](int tid) { copy_chunk(b, f, t, tid); });
        benchmark::ClobberMemory();
    }
    st.counters["GBps"] = rate(8e-9 * n);
}

// n so that x + y fill half of L2, half of L3, and 4x L3 (DRAM).
std::vector<std::ptrdiff_t> sizes() {
    std::ptrdiff_t l2 = cache_bytes(2) / 2 / 8, l3 = cache_bytes(3) / 2 / 8;
    std::ptrdiff_t dram = std::max<std::ptrdiff_t>(4 * cache_bytes(3), 64 << 20) / 8;
    if (size_set() == SizeSet::quick) return {4096, l2};
    return {l2, l3, dram};
}

}  // namespace

void register_relu() {
    for (std::ptrdiff_t n : sizes()) {
        std::vector<std::pair<std::string, std::string>> dims = {
            {"n", std::to_string(n)}, {"ws", level_of(8 * n)}};
        for (std::size_t i = 0; i < kl_variant_count(); i++) {
            const kl_variant *v = kl_variant_at(i);
            if (v->op != KL_OP_RELU || !kl_variant_available(v)) continue;
            for (int t : thread_counts(v->threaded)) {
                std::string name = bench_name("relu", v->name, dims, t);
                auto *b = benchmark::RegisterBenchmark(name.c_str(), bm_variant, v, n, t, name);
                b->Unit(benchmark::kMicrosecond);
                b->UseRealTime(); // like BLIS and the ceilings: one clock for every ratio
            }
        }
        for (auto [base, label] : {std::pair{Base::blis_copyv, "blis_copyv"}, std::pair{Base::memcpy, "memcpy"}})
            for (int t : thread_counts(true)) {
                std::string name = bench_name("relu", label, dims, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_base, base, n, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
            }
    }
}

}  // namespace klb
