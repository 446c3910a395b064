#include "common.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace klb {

static SizeSet g_set = SizeSet::full;
SizeSet size_set() { return g_set; }
void set_size_set(SizeSet s) { g_set = s; }

int nproc() {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

std::vector<int> thread_counts(bool threaded) {
    if (!threaded || nproc() == 1) return {1};
    return {1, nproc()};
}

std::size_t cache_bytes(int level) { return kl_cpu_cache_bytes(level); }

const char *cache_source(int level) { return kl_cpu_cache_source(level); }

std::string level_of(std::size_t ws) {
    for (int l = 1; l <= 3; l++)
        if (ws <= cache_bytes(l)) return "L" + std::to_string(l);
    return "DRAM";
}

FloatBuf alloc_floats(std::size_t n) {
    std::size_t bytes = ((n ? n : 1) * sizeof(float) + 63) / 64 * 64;
    float *p = static_cast<float *>(std::aligned_alloc(64, bytes));
    if (!p) {
        std::fprintf(stderr, "kl_bench: out of memory allocating %zu bytes\n", bytes);
        std::exit(2);
    }
    return FloatBuf(p, std::free);
}

void fill_uniform(float *p, std::size_t n, std::uint32_t seed, float lo, float hi) {
    std::mt19937 gen(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    for (std::size_t i = 0; i < n; i++) p[i] = d(gen);
}

void run_threads(int t, const std::function<void(int)> &fn) {
    if (t <= 1) return fn(0);
#ifdef _OPENMP
#pragma omp parallel num_threads(t)
    fn(omp_get_thread_num());
#else
    std::vector<std::thread> pool;
    for (int i = 1; i < t; i++) pool.emplace_back(fn, i);
    fn(0);
    for (auto &th : pool) th.join();
#endif
}

void split(std::ptrdiff_t n, int t, int tid, std::ptrdiff_t *begin, std::ptrdiff_t *end) {
    *begin = n * tid / t;
    *end = n * (tid + 1) / t;
}

std::string check_message(double worst, std::ptrdiff_t where) {
    if (worst <= 1.0) return "";
    char buf[128];
    std::snprintf(buf, sizeof buf, "wrong result: worst error %.3g x tolerance at index %td",
                  worst, where);
    return buf;
}

static std::string g_key;
static std::unique_ptr<Fixture> g_fixture;

Fixture *current_fixture(const std::string &key) {
    return g_fixture && g_key == key ? g_fixture.get() : nullptr;
}

Fixture *replace_fixture(const std::string &key,
                         const std::function<std::unique_ptr<Fixture>()> &make) {
    g_fixture.reset();  // free the previous benchmark's buffers before allocating
    g_fixture = make();
    g_key = key;
    return g_fixture.get();
}

std::string bench_name(const std::string &op, const std::string &variant,
                       const std::vector<std::pair<std::string, std::string>> &fields, int threads) {
    std::string s = op + "/" + variant;
    for (auto &f : fields) s += "/" + f.first + ":" + f.second;
    return s + "/threads:" + std::to_string(threads);
}

}  // namespace klb
