// linear_relu: every available registry variant (unfused = best matmul + a separate bias+ReLU
// pass; fused = bias+ReLU on each tile as it is written), plus BLIS done the unfused way:
// bli_sgemm then the same separate bias+ReLU pass ("blis_relu"), and OpenBLAS the same way
// ("openblas_relu", when kl_bench could load it). C = relu(A.B + bias).
// Counter GFLOPS = 2 m n k per call (the epilogue's 2mn flops are not counted).
#include <blis.h>

#include <cstring>

#include "common.h"
#include "openblas_setup.h"
#include "reference.h"

namespace klb {
namespace {

struct LinearFixture : Fixture {
    std::ptrdiff_t m, n, k;
    FloatBuf A{nullptr, std::free}, B{nullptr, std::free}, bias{nullptr, std::free};
    FloatBuf C{nullptr, std::free};
};

std::unique_ptr<LinearFixture> make(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k) {
    auto f = std::make_unique<LinearFixture>();
    f->m = m, f->n = n, f->k = k;
    f->A = alloc_floats(m * k), f->B = alloc_floats(k * n), f->bias = alloc_floats(n);
    f->C = alloc_floats(m * n);
    fill_uniform(f->A.get(), m * k, 1, -1, 1);
    fill_uniform(f->B.get(), k * n, 2, -1, 1);
    fill_uniform(f->bias.get(), n, 4, -1, 1);
    fill_uniform(f->C.get(), m * n, 3, -1, 1);  // garbage in C: it is output only
    return f;
}

// As bench_matmul.cc: above 2^27 multiply-adds, check the first and last 16 rows and every
// 8th row (row i of C depends only on row i of A).
std::string check(const LinearFixture &f) {
    const std::ptrdiff_t m = f.m, n = f.n, k = f.k;
    double worst = 0;
    std::ptrdiff_t worst_at = -1;
    bool all = (double)m * n * k <= (double)(1 << 27);
    for (std::ptrdiff_t i = 0; i < m; i++) {
        if (!all && !(i < 16 || i >= m - 16 || i % 8 == 0)) continue;
        std::ptrdiff_t where;
        double w = kl_check_linear_relu(1, n, k, f.A.get() + i * k, k, f.B.get(), n, f.bias.get(),
                                        f.C.get() + i * n, n, &where);
        if (w > worst || (w != w)) worst = w, worst_at = i * n + where;
    }
    return check_message(worst, worst_at);
}

void bm_variant(benchmark::State &st, const kl_variant *v, std::ptrdiff_t m, std::ptrdiff_t n,
                std::ptrdiff_t k, int t, const std::string &key) {
    kl_set_num_threads(t);
    auto &f = fixture<LinearFixture>(key, [&] {
        auto f = make(m, n, k);
        kl_status r = kl_linear_relu_run(v, m, n, k, f->A.get(), k, f->B.get(), n, f->bias.get(),
                                         f->C.get(), n);
        f->error = r != KL_OK ? std::string("kernel returned ") + kl_status_str(r) : check(*f);
        return f.release();
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        kl_linear_relu_run(v, m, n, k, f.A.get(), k, f.B.get(), n, f.bias.get(), f.C.get(), n);
        benchmark::ClobberMemory();
    }
    st.counters["GFLOPS"] = rate(2e-9 * m * n * k);
}

// The unfused baseline on a peer: its sgemm, then one plain pass over C for bias + ReLU (one
// thread, like the unfused variant's pass). Vectorized as the unfused variant's pass is
// (kernels/linear_relu/common.c says why).
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("vect-cost-model=dynamic")))
#endif
void bias_relu(LinearFixture &f) {
    const float *bias = f.bias.get();
    for (std::ptrdiff_t i = 0; i < f.m; i++) {
        float *c = f.C.get() + i * f.n;
        for (std::ptrdiff_t j = 0; j < f.n; j++) {
            float x = c[j] + bias[j];
            c[j] = x < 0.0f ? 0.0f : x;  // NaN kept, as kl_linear_relu
        }
    }
}

enum class Peer { blis, openblas };

// Row-major for BLIS: row stride = ld, column stride 1.
void peer_linear_relu(Peer p, LinearFixture &f) {
    float one = 1.0f, zero = 0.0f;
    if (p == Peer::blis)
        bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, f.m, f.n, f.k, &one, f.A.get(), f.k, 1,
                  f.B.get(), f.n, 1, &zero, f.C.get(), f.n, 1);
    else
        openblas_sgemm(f.m, f.n, f.k, one, f.A.get(), f.k, f.B.get(), f.n, zero, f.C.get(), f.n);
    bias_relu(f);
}

void bm_peer(benchmark::State &st, Peer p, std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k,
             int t, const std::string &key) {
    if (p == Peer::blis) bli_thread_set_num_threads(t);
    else openblas_set_threads(t);
    auto &f = fixture<LinearFixture>(key, [&] {
        auto f = make(m, n, k);
        peer_linear_relu(p, *f);
        f->error = check(*f);
        return f.release();
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        peer_linear_relu(p, f);
        benchmark::ClobberMemory();
    }
    st.counters["GFLOPS"] = rate(2e-9 * m * n * k);
}

struct Shape {
    std::ptrdiff_t m, n, k;
};

// Square sizes, an MLP layer (batch 256, 768 -> 3072 as in a BERT-base feed-forward), and the
// lesson's 512 x 4096 x 256 (C = 8 MiB: far past L2, where fusing saves a round trip of C).
std::vector<Shape> shapes() {
    if (size_set() == SizeSet::quick) return {{64, 64, 64}, {256, 256, 256}, {512, 512, 512}, {256, 3072, 768}};
    return {{64, 64, 64},     {256, 256, 256},   {512, 512, 512},
            {1024, 1024, 1024}, {256, 3072, 768}, {512, 4096, 256}};
}

}  // namespace

void register_linear_relu() {
    for (const Shape &s : shapes()) {
        std::vector<std::pair<std::string, std::string>> dims = {
            {"m", std::to_string(s.m)}, {"n", std::to_string(s.n)}, {"k", std::to_string(s.k)}};
        for (std::size_t i = 0; i < kl_variant_count(); i++) {
            const kl_variant *v = kl_variant_at(i);
            if (v->op != KL_OP_LINEAR_RELU || !kl_variant_available(v)) continue;
            for (int t : thread_counts(v->threaded)) {
                std::string name = bench_name("linear_relu", v->name, dims, t);
                auto *b = benchmark::RegisterBenchmark(name.c_str(), bm_variant, v, s.m, s.n, s.k,
                                                       t, name);
                b->Unit(benchmark::kMicrosecond);
                b->UseRealTime(); // like BLIS and the ceilings: one clock for every ratio
            }
        }
        std::vector<std::pair<Peer, const char *>> peers = {{Peer::blis, "blis_relu"}};
        if (openblas_loaded()) peers.push_back({Peer::openblas, "openblas_relu"});
        for (auto [peer, label] : peers)
            for (int t : thread_counts(true)) {
                std::string name = bench_name("linear_relu", label, dims, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_peer, peer, s.m, s.n, s.k, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
            }
    }
}

}  // namespace klb
