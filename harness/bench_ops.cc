// Every op in the op table (kernels/ops/ops.h), at each of its descriptor's shapes: every
// available registry variant at 1 and nproc threads (threaded rungs) or 1, then its baselines:
// BLIS as the descriptor says, memcpy of the same bytes for ops with a copy roof, and whatever
// add_baseline registered (traffic bounds, other peer libraries).
//
// Each benchmark reports its rate (the descriptor's GFLOPS or GBps) and, per call, the op's
// "flops" and "bytes" at that shape: the reports read the roofline's axes from there.
// Buffers are built and the result checked against the float64 oracle once per benchmark (the
// check samples rows where the oracle would be slow); a wrong result is reported instead of a
// time.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "blis_setup.h"
#include "common.h"

namespace klb {
namespace {

struct OpFixture : Fixture {
    kl_op_args a{};
    ~OpFixture() override { kl_op_args_free(&a); }
};

std::vector<Baseline> &extra_baselines() {
    static std::vector<Baseline> list;
    return list;
}

std::string status_message(const char *what, kl_status s) {
    return std::string(what) + " " + kl_status_str(s);
}

OpFixture *make(const kl_op_desc *op, const ptrdiff_t *d, unsigned flags) {
    auto *f = new OpFixture;
    kl_status s = kl_op_args_alloc(op, d, 0, 1, flags, &f->a);
    if (s != KL_OK) f->error = status_message("allocating the buffers:", s);
    return f;
}

std::string oracle(const kl_op_args &a) {
    std::ptrdiff_t where = -1;
    double worst = kl_op_check(&a, 1, &where);
    return check_message(worst, where);
}

// The work of one call, as GB counters: per-iteration rate plus the per-call totals.
void set_counters(benchmark::State &st, const kl_op_desc *op, const ptrdiff_t *d, double bytes) {
    const double flops = op->flops(d);
    const bool gflops = std::strcmp(op->rate, "GFLOPS") == 0;
    st.counters[op->rate] = rate(1e-9 * (gflops ? flops : bytes));
    st.counters["flops"] = flops;
    st.counters["bytes"] = op->bytes(d);
}

void bm_variant(benchmark::State &st, const kl_variant *v, Shape s, int t, const std::string &key) {
    const kl_op_desc *op = kl_op_desc_of(v->op);
    kl_set_num_threads(t);
    auto &f = fixture<OpFixture>(key, [&] {
        OpFixture *f = make(op, s.d, 0);
        if (!f->error.empty()) return f;
        kl_status r = kl_op_call(v, &f->a);
        f->error = r != KL_OK ? status_message("kernel returned", r) : oracle(f->a);
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        kl_op_call(v, &f.a);
        benchmark::ClobberMemory();
    }
    set_counters(st, op, s.d, op->bytes(s.d));
}

void run_baseline(const Baseline &b, const kl_op_args &a, int t) {
    if (b.threads_itself) return b.run(a, 0, a.d[0]);
    run_threads(t, [&](int tid) {
        std::ptrdiff_t lo, hi;
        split(a.d[0], t, tid, &lo, &hi);
        b.run(a, lo, hi);
    });
}

void bm_baseline(benchmark::State &st, const Baseline *b, Shape s, int t, const std::string &key) {
    const kl_op_desc *op = kl_op_desc_of(b->op);
    if (b->threads_itself && b->set_threads) b->set_threads(t);
    auto &f = fixture<OpFixture>(key, [&] {
        OpFixture *f = make(op, s.d, b->alloc_flags);
        if (!f->error.empty()) return f;
        run_baseline(*b, f->a, t);
        f->error = b->check ? b->check(f->a) : oracle(f->a);
        return f;
    });
    if (!f.error.empty()) return st.SkipWithError(f.error.c_str());
    for (auto _ : st) {
        run_baseline(*b, f.a, t);
        benchmark::ClobberMemory();
    }
    set_counters(st, op, s.d, b->bytes ? b->bytes(s.d) : op->bytes(s.d));
}

// The descriptor's BLIS baseline.
Baseline blis_baseline(const kl_op_desc *op) {
    Baseline b;
    b.op = op->op, b.name = op->blis_name, b.threads_itself = op->blis_threads_itself != 0;
    b.run = [op](const kl_op_args &a, std::ptrdiff_t lo, std::ptrdiff_t hi) { op->blis(&a, lo, hi); };
    b.set_threads = [](int t) { blis_set_threads(t); };
    if (op->blis_check)
        b.check = [op](const kl_op_args &a) {
            std::ptrdiff_t where = -1;
            double worst = op->blis_check(&a, &where);
            return worst <= 1.0 ? std::string() : "wrong result: " + std::string(op->blis_name) +
                                                      " output differs at index " +
                                                      std::to_string(where);
        };
    b.alloc_flags = KL_ARGS_BASELINE;
    return b;
}

// memcpy of copy_roof[0] into copy_roof[1], rows of d[0] split across threads.
Baseline copy_roof(const kl_op_desc *op) {
    const int src = kl_op_buf_index(op, op->copy_roof[0]), dst = kl_op_buf_index(op, op->copy_roof[1]);
    Baseline b;
    b.op = op->op, b.name = "memcpy";
    b.run = [src, dst](const kl_op_args &a, std::ptrdiff_t lo, std::ptrdiff_t hi) {
        // floats per unit of d[0]: a row of layernorm's x, one float of relu's x
        const std::ptrdiff_t row = a.d[0] ? (std::ptrdiff_t)kl_op_buf_floats(&a, src) / a.d[0] : 0;
        std::memcpy(a.buf[dst] + lo * row, a.buf[src] + lo * row, sizeof(float) * (hi - lo) * row);
    };
    b.check = [src, dst](const kl_op_args &a) {
        return std::memcmp(a.buf[src], a.buf[dst], sizeof(float) * kl_op_buf_floats(&a, src)) != 0
                   ? std::string("wrong result: copy differs from its source")
                   : std::string();
    };
    b.bytes = [op, src](const ptrdiff_t *d) {  // read + write of the source's bytes
        kl_op_args probe{};
        probe.op = op;
        for (int j = 0; j < op->ndims; j++) probe.d[j] = d[j];
        return 8.0 * (double)kl_op_buf_floats(&probe, src);
    };
    return b;
}

std::vector<std::pair<std::string, std::string>> dims_of(const kl_op_desc *op, const Shape &s) {
    std::vector<std::pair<std::string, std::string>> dims;
    for (int j = 0; j < op->ndims; j++) dims.push_back({op->dim_names[j], std::to_string(s.d[j])});
    if (op->working_set) dims.push_back({"ws", level_of((std::size_t)op->working_set(s.d))});
    return dims;
}

void register_op(const kl_op_desc *op, std::vector<Baseline> &owned) {
    std::vector<const Baseline *> baselines;
    if (op->blis) owned.push_back(blis_baseline(op));
    if (op->copy_roof[0]) owned.push_back(copy_roof(op));
    for (const Baseline &b : owned)
        if (b.op == op->op) baselines.push_back(&b);
    for (const Baseline &b : extra_baselines())
        if (b.op == op->op && (!b.available || b.available())) baselines.push_back(&b);

    std::ptrdiff_t shapes[32][KL_OP_MAX_DIMS];
    std::size_t count = op->bench_shapes(size_set() == SizeSet::quick, shapes, 32);
    for (std::size_t i = 0; i < count && i < 32; i++) {
        Shape s;
        std::copy(shapes[i], shapes[i] + KL_OP_MAX_DIMS, s.d);
        auto dims = dims_of(op, s);
        for (std::size_t r = 0; r < kl_variant_count(); r++) {
            const kl_variant *v = kl_variant_at(r);
            if (v->op != op->op || !kl_variant_available(v)) continue;
            if (op->bench_skips && op->bench_skips(v, s.d)) continue;
            for (int t : thread_counts(v->threaded)) {
                std::string name = bench_name(op->name, v->name, dims, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_variant, v, s, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();  // like the baselines and the ceilings: one clock for every ratio
            }
        }
        for (const Baseline *b : baselines)
            for (int t : thread_counts(true)) {
                std::string name = bench_name(op->name, b->name, dims, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_baseline, b, s, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->UseRealTime();
            }
    }
}

}  // namespace

void add_baseline(const Baseline &b) { extra_baselines().push_back(b); }

void register_ops() {
    // Baselines live as long as the benchmarks that point at them: to the end of main.
    static std::vector<Baseline> owned[KL_OP_COUNT];
    for (int o = 0; o < KL_OP_COUNT; o++) {
        owned[o].reserve(2);  // no reallocation: registered benchmarks keep pointers
        if (const kl_op_desc *op = kl_op_desc_of((kl_op)o)) register_op(op, owned[o]);
    }
}

}  // namespace klb
