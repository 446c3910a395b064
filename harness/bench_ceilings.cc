// Machine ceilings, measured in the same run as the kernels:
//   ceiling/fma/isa:<scalar|avx2|avx512>/threads:t   GFLOPS: 12 independent multiply-add chains
//     per thread (covers FMA latency 4 x 2 pipes with room); each ISA's code is compiled for
//     that ISA only via target attributes, and only run when kl_cpu_isa() has it.
//   ceiling/<copy|memcpy>/level:<L1|L2|L3|DRAM>/bytes:ws/threads:t   GBps: read + write bytes,
//     source + destination = ws. `copy` is a plain vector loop at the best ISA (load, store:
//     what a streaming kernel can do), `memcpy` is glibc's (rep movsb / non-temporal stores);
//     the report takes the faster as the level's ceiling. L1/L2 are per core, so each thread
//     gets its own ws; L3 and DRAM are shared, so ws is split over the threads.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "common.h"

namespace klb {
namespace {

constexpr int kChains = 12;

// Scalar: mul + add (2 flops) per chain step, one scalar register per chain. GCC's SLP
// vectorizer would otherwise pack the chains into xmm vectors (it does at -O3), so it is off
// here, and the empty asm keeps each chain a lone scalar register every step.
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("no-tree-vectorize", "no-tree-slp-vectorize")))
#endif
float fma_scalar(long iters) {
    float c0 = 0.0f, c1 = 0.1f, c2 = 0.2f, c3 = 0.3f, c4 = 0.4f, c5 = 0.5f, c6 = 0.6f,
          c7 = 0.7f, c8 = 0.8f, c9 = 0.9f, c10 = 1.0f, c11 = 1.1f;
    const float m = 0.9999f, a = 1e-4f;
    for (long i = 0; i < iters; i++) {
        c0 = c0 * m + a, c1 = c1 * m + a, c2 = c2 * m + a, c3 = c3 * m + a;
        c4 = c4 * m + a, c5 = c5 * m + a, c6 = c6 * m + a, c7 = c7 * m + a;
        c8 = c8 * m + a, c9 = c9 * m + a, c10 = c10 * m + a, c11 = c11 * m + a;
        asm volatile("" : "+x"(c0), "+x"(c1), "+x"(c2), "+x"(c3), "+x"(c4), "+x"(c5), "+x"(c6),
                     "+x"(c7), "+x"(c8), "+x"(c9), "+x"(c10), "+x"(c11));
    }
    return c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11;
}

__attribute__((target("avx2,fma"))) float fma_avx2(long iters) {
    const __m256 m = _mm256_set1_ps(0.9999f), a = _mm256_set1_ps(1e-4f);
    __m256 c[kChains];
    for (int j = 0; j < kChains; j++) c[j] = _mm256_set1_ps(0.1f * j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int j = 0; j < kChains; j++) c[j] = _mm256_fmadd_ps(c[j], m, a);
    __m256 s = c[0];
    for (int j = 1; j < kChains; j++) s = _mm256_add_ps(s, c[j]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))) float fma_avx512(long iters) {
    const __m512 m = _mm512_set1_ps(0.9999f), a = _mm512_set1_ps(1e-4f);
    __m512 c[kChains];
    for (int j = 0; j < kChains; j++) c[j] = _mm512_set1_ps(0.1f * j);
    for (long i = 0; i < iters; i++)
#pragma GCC unroll 12
        for (int j = 0; j < kChains; j++) c[j] = _mm512_fmadd_ps(c[j], m, a);
    __m512 s = c[0];
    for (int j = 1; j < kChains; j++) s = _mm512_add_ps(s, c[j]);
    float out[16];
    _mm512_storeu_ps(out, s);
    return out[0] + out[15];
}

struct FmaIsa {
    kl_isa isa;
    float (*fn)(long);
    int lanes;
};
constexpr FmaIsa kFma[] = {{KL_ISA_SCALAR, fma_scalar, 1},
                           {KL_ISA_AVX2, fma_avx2, 8},
                           {KL_ISA_AVX512, fma_avx512, 16}};

void bm_fma(benchmark::State &st, FmaIsa f, int t) {
    const long iters = 1L << 20;  // ~5-10 ms per call per thread
    std::vector<float> sink(t);
    for (auto _ : st) {
        run_threads(t, [&](int tid) { sink[tid] = f.fn(iters); });
        benchmark::DoNotOptimize(sink.data());
    }
    st.counters["GFLOPS"] = rate(1e-9 * 2.0 * kChains * f.lanes * iters * t);
}

// Vector copy loops, 4 registers per step; n is a multiple of 64 floats (ws is a power of 2).
void copy_sse(float *d, const float *s, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 16) {
        __m128 a = _mm_loadu_ps(s + i), b = _mm_loadu_ps(s + i + 4), c = _mm_loadu_ps(s + i + 8),
               e = _mm_loadu_ps(s + i + 12);
        _mm_storeu_ps(d + i, a), _mm_storeu_ps(d + i + 4, b), _mm_storeu_ps(d + i + 8, c),
            _mm_storeu_ps(d + i + 12, e);
    }
}

__attribute__((target("avx2"))) void copy_avx2(float *d, const float *s, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 32) {
        __m256 a = _mm256_loadu_ps(s + i), b = _mm256_loadu_ps(s + i + 8),
               c = _mm256_loadu_ps(s + i + 16), e = _mm256_loadu_ps(s + i + 24);
        _mm256_storeu_ps(d + i, a), _mm256_storeu_ps(d + i + 8, b),
            _mm256_storeu_ps(d + i + 16, c), _mm256_storeu_ps(d + i + 24, e);
    }
}

__attribute__((target("avx512f"))) void copy_avx512(float *d, const float *s, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 64) {
        __m512 a = _mm512_loadu_ps(s + i), b = _mm512_loadu_ps(s + i + 16),
               c = _mm512_loadu_ps(s + i + 32), e = _mm512_loadu_ps(s + i + 48);
        _mm512_storeu_ps(d + i, a), _mm512_storeu_ps(d + i + 16, b),
            _mm512_storeu_ps(d + i + 32, c), _mm512_storeu_ps(d + i + 48, e);
    }
}

void copy_memcpy(float *d, const float *s, std::size_t n) { std::memcpy(d, s, n * sizeof(float)); }

using CopyFn = void (*)(float *, const float *, std::size_t);

CopyFn best_vector_copy() {
    kl_isa isa = kl_cpu_isa();
    return isa >= KL_ISA_AVX512 ? copy_avx512 : isa >= KL_ISA_AVX2 ? copy_avx2 : copy_sse;
}

struct CopyFixture : Fixture {
    std::vector<FloatBuf> a, b;  // per thread: copy a -> b, then b -> a
};

void bm_copy(benchmark::State &st, CopyFn copy, std::size_t ws, bool per_core, int t,
             const std::string &key) {
    const std::size_t thread_ws = per_core ? ws : ws / t;  // src + dst bytes per thread
    const std::size_t half = thread_ws / 2 / 256 * 256;      // whole 64-float steps
    const long reps = std::max<long>(1, (long)((64u << 20) / (t * thread_ws)));
    auto &f = fixture<CopyFixture>(key, [&] {
        auto *f = new CopyFixture;
        for (int i = 0; i < t; i++) {
            f->a.push_back(alloc_floats(half / sizeof(float)));
            f->b.push_back(alloc_floats(half / sizeof(float)));
            fill_uniform(f->a.back().get(), half / sizeof(float), 8, 0, 1);
            std::memset(f->b.back().get(), 0, half);
        }
        return f;
    });
    for (auto _ : st) {
        run_threads(t, [&](int tid) {
            float *a = f.a[tid].get(), *b = f.b[tid].get();
            for (long r = 0; r < reps; r++) {
                if (r & 1) copy(a, b, half / sizeof(float));
                else copy(b, a, half / sizeof(float));
                benchmark::ClobberMemory();
            }
        });
    }
    st.counters["GBps"] = rate(1e-9 * 2.0 * half * reps * t);
}

// A ceiling is the best the machine showed, so with repetitions the report reads the "max"
// aggregate (GB applies it to the rate counters too; its time column is not used).
double max_of(const std::vector<double> &v) { return *std::max_element(v.begin(), v.end()); }

}  // namespace

void register_ceilings() {
    // A ceiling is the best sample, and one sample that loses its time slice (2 vCPUs shared
    // with the host) reads far low: 94 instead of 146 GFLOP/s for AVX2 on 2 threads, seen
    // here. Samples are a few ms, so many repetitions cost little.
    const int reps = size_set() == SizeSet::quick ? 3 : 9;
    for (const FmaIsa &f : kFma) {
        if (f.isa > kl_cpu_isa()) continue;
        for (int t : thread_counts(true)) {
            std::string name = bench_name("ceiling", "fma", {{"isa", kl_isa_name(f.isa)}}, t);
            benchmark::RegisterBenchmark(name.c_str(), bm_fma, f, t)
                ->Unit(benchmark::kMillisecond)
                ->Repetitions(reps)
                ->UseRealTime()
                ->ComputeStatistics("max", max_of);
        }
    }
    const std::size_t dram = std::max<std::size_t>(4 * cache_bytes(3), 64 << 20);
    const std::pair<const char *, std::size_t> levels[] = {
        {"L1", cache_bytes(1) / 2}, {"L2", cache_bytes(2) / 2}, {"L3", cache_bytes(3) / 2}, {"DRAM", dram}};
    for (auto [level, ws] : levels)
        for (auto [method, fn] : {std::pair{"copy", best_vector_copy()}, std::pair{"memcpy", copy_memcpy}})
            for (int t : thread_counts(true)) {
                bool per_core = level[1] == '1' || level[1] == '2';
                std::string name = bench_name("ceiling", method,
                                              {{"level", level}, {"bytes", std::to_string(ws)}}, t);
                benchmark::RegisterBenchmark(name.c_str(), bm_copy, fn, ws, per_core, t, name)
                    ->Unit(benchmark::kMicrosecond)
                    ->Repetitions(reps)
                    ->UseRealTime()
                    ->ComputeStatistics("max", max_of);
            }
}

}  // namespace klb
