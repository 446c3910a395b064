// LayerNorm's traffic bounds (kind "roof" in the report), timed beside its variants, BLIS and
// memcpy (bench_ops.cc): LayerNorm's own loads and stores with none of its arithmetic, AVX2 +
// FMA with ordinary stores (only where kl_cpu_isa() has AVX2), walking the rows as the SIMD
// rungs do (kl_ln_rows_path): row by row, or, where a row with gamma and beta is too wide for
// half of L1 past L2, in blocks of rows a column chunk at a time (gamma and beta fetched once
// per block). A kernel making the same passes and keeping y in cache cannot beat them, so they
// show what the memory system allows at each shape (one that streams y can: the rungs do once
// x + y pass L3, kernels/tuning.c):
//   traffic_1pass: y = x * gamma + beta            (x read once: the least any LayerNorm moves)
//   traffic_2pass: sum(x), then y = x * gamma + beta (x read twice, as a kernel must when a
//                  row and gamma/beta do not fit L1 together between its statistics and y)
// Rates in GBps over the op's own byte model, rows split evenly across threads.
#include <immintrin.h>

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "common.h"

extern "C" {
#include "layernorm/layernorm.h"
}

namespace klb {
namespace {

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

struct Bufs {
    int x, gamma, beta, y, mean;
};

Bufs bufs() {
    const kl_op_desc *op = kl_op_desc_of(KL_OP_LAYERNORM);
    return {kl_op_buf_index(op, "x"), kl_op_buf_index(op, "gamma"), kl_op_buf_index(op, "beta"),
            kl_op_buf_index(op, "y"), kl_op_buf_index(op, "mean")};
}

// Rows [lo, hi): `block` rows at a time, the sums of each (two_pass; they go to mean[], unused by
// the bounds, so the first pass is not dead code), then y a chunk of `width` columns at a time
// across the block. One row with the whole width is the row-by-row walk.
void bound_rows(const kl_op_args &a, std::ptrdiff_t lo, std::ptrdiff_t hi, bool two_pass) {
    static const Bufs b = bufs();
    const std::ptrdiff_t cols = a.d[1];
    const bool blocks = kl_ln_rows_path(hi - lo, cols, 0, 0) == KL_LN_BLOCKS;
    const std::ptrdiff_t block = blocks ? kl_ln_block_rows(cols) : 1;
    const std::ptrdiff_t width = blocks ? kl_ln_block_cols() : cols;
    const float *g = a.buf[b.gamma], *bt = a.buf[b.beta];
    for (std::ptrdiff_t r0 = lo; r0 < hi; r0 += block) {
        const std::ptrdiff_t r1 = std::min(hi, r0 + block);
        if (two_pass)
            for (std::ptrdiff_t r = r0; r < r1; r++)
                a.buf[b.mean][r] = sum_avx2(cols, a.buf[b.x] + r * cols);
        for (std::ptrdiff_t c0 = 0; c0 < cols; c0 += width) {
            const std::ptrdiff_t w = std::min(width, cols - c0);
            for (std::ptrdiff_t r = r0; r < r1; r++)
                scale_shift_avx2(w, a.buf[b.x] + r * cols + c0, g + c0, bt + c0,
                                 a.buf[b.y] + r * cols + c0);
        }
    }
}

// y against x * gamma + beta in scalar fmaf (bit for bit), and 2pass's sums: 32 float lanes of
// cols/32 terms each, then 8 more adds, so the error is at most (cols/32 + 8) u sum|x|
// (u = FLT_EPSILON / 2); the check allows twice that.
std::string check_bound(const kl_op_args &a, bool two_pass) {
    static const Bufs b = bufs();
    const std::ptrdiff_t cols = a.d[1];
    for (std::ptrdiff_t r = 0; r < a.d[0]; r++) {
        const float *x = a.buf[b.x] + r * cols, *y = a.buf[b.y] + r * cols;
        double sum = 0, abs_sum = 0;
        for (std::ptrdiff_t c = 0; c < cols; c++) {
            if (y[c] != std::fma(x[c], a.buf[b.gamma][c], a.buf[b.beta][c]))
                return "wrong result: y != x * gamma + beta at row " + std::to_string(r);
            sum += x[c], abs_sum += std::fabs(x[c]);
        }
        double tol = (cols / 32.0 + 8) * FLT_EPSILON * abs_sum;
        if (two_pass && !(std::fabs(a.buf[b.mean][r] - sum) <= tol))
            return "wrong result: sum of row " + std::to_string(r) + " off";
    }
    return "";
}

}  // namespace

void register_layernorm_bounds() {
    for (bool two_pass : {false, true}) {
        Baseline b;
        b.op = KL_OP_LAYERNORM;
        b.name = two_pass ? "traffic_2pass" : "traffic_1pass";
        b.run = [two_pass](const kl_op_args &a, std::ptrdiff_t lo, std::ptrdiff_t hi) {
            bound_rows(a, lo, hi, two_pass);
        };
        b.check = [two_pass](const kl_op_args &a) { return check_bound(a, two_pass); };
        b.available = [] { return kl_cpu_isa() >= KL_ISA_AVX2; };
        add_baseline(b);
    }
}

}  // namespace klb
