// Shared pieces of kl_bench: options, thread counts, cache sizes, buffers, the one-live
// fixture cache (setup + correctness check run once per benchmark, not once per GB call).
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kernellab.h"
#include "ops.h"

namespace klb {

enum class SizeSet { quick, full };
SizeSet size_set();
void set_size_set(SizeSet s);

int nproc();
std::vector<int> thread_counts(bool threaded);  // {1} or {1, nproc}
// Data cache bytes at level 1..3, as kl_cpu_cache_bytes (sysfs, else sysconf, else a default)
// (sysconf's L3 is wrong in some VMs). L1/L2 per core, L3 shared.
std::size_t cache_bytes(int level);
const char *cache_source(int level);  // "sysfs", "sysconf" or "default"
// "L1".."L3" for the smallest cache holding ws bytes, else "DRAM".
std::string level_of(std::size_t ws_bytes);

// 64-byte aligned floats (the kernels' SIMD loads are unaligned-safe; alignment keeps runs steady).
using FloatBuf = std::unique_ptr<float[], void (*)(void *)>;
FloatBuf alloc_floats(std::size_t n);
void fill_uniform(float *p, std::size_t n, std::uint32_t seed, float lo, float hi);

// Run fn(tid) on t threads and wait (OpenMP's pool when built with it: cheap per call).
void run_threads(int t, const std::function<void(int)> &fn);
// [begin, end) of chunk tid when n items are split over t threads.
void split(std::ptrdiff_t n, int t, int tid, std::ptrdiff_t *begin, std::ptrdiff_t *end);

// "" when worst <= 1, else the error the benchmark reports instead of a speed.
std::string check_message(double worst, std::ptrdiff_t where);

struct Fixture {
    virtual ~Fixture() = default;
    std::string error;  // set by the check; non-empty means "never time this"
};
Fixture *current_fixture(const std::string &key);
Fixture *replace_fixture(const std::string &key, const std::function<std::unique_ptr<Fixture>()> &make);

// GB calls a benchmark function several times (iteration estimate, repetitions). Keep exactly
// one fixture alive, keyed by benchmark name, so buffers and the check are built once and
// freed as soon as the next benchmark starts.
template <class T, class Make>
T &fixture(const std::string &key, Make make) {
    Fixture *f = current_fixture(key);
    if (!f) f = replace_fixture(key, [&] { return std::unique_ptr<Fixture>(make()); });
    return static_cast<T &>(*f);
}

// Per-iteration work as a GB rate counter: value/iteration divided by the measured time.
inline benchmark::Counter rate(double per_iteration) {
    return benchmark::Counter(per_iteration, benchmark::Counter::kIsIterationInvariantRate);
}

// One shape of an op: d[0..ndims) (kernels/ops/ops.h).
struct Shape {
    std::ptrdiff_t d[KL_OP_MAX_DIMS];
};

// "op/variant/key:value/.../threads:t": report.py parses these fields back.
std::string bench_name(const std::string &op, const std::string &variant,
                       const std::vector<std::pair<std::string, std::string>> &fields, int threads);

// Something timed beside an op's variants at each of its shapes: a peer library (BLIS, from
// the op's descriptor, or another added with add_baseline) or a roof (memcpy of the same bytes,
// LayerNorm's traffic bounds). Named "<op>/<name>/<dims>/threads:t" like the variants, and
// checked before it is timed.
struct Baseline {
    kl_op op;
    std::string name;
    // Runs d[0] rows [lo, hi) of the call; with threads_itself, the whole call on its own team.
    std::function<void(const kl_op_args &, std::ptrdiff_t lo, std::ptrdiff_t hi)> run;
    bool threads_itself = false;
    std::function<void(int)> set_threads;  // threads_itself: set the team size (may be empty)
    // "" when the output is right; empty function: the op's own check (its float64 oracle).
    std::function<std::string(const kl_op_args &)> check;
    // Bytes per call for a GBps rate; empty function: the op's own bytes.
    std::function<double(const ptrdiff_t *d)> bytes;
    unsigned alloc_flags = 0;          // KL_ARGS_*: e.g. KL_ARGS_BASELINE for BLIS's ones[]
    std::function<bool()> available;   // empty: always
};
// Register before register_ops(). Baselines run in the order added, after BLIS and memcpy.
void add_baseline(const Baseline &b);

void register_ceilings();
void register_layernorm_bounds();  // add_baseline for LayerNorm's traffic bounds
void register_ops();               // every op in the table: its variants and baselines

}  // namespace klb
