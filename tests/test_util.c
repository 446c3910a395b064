#include "test_util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Quiet NaNs with payloads no kernel would produce by arithmetic; rotated per allocation. */
static uint32_t canary_count;

static long total_failures;

/* ---- buffers ---- */

void tu_mat_alloc(tu_mat *m, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, ptrdiff_t off) {
    tu_mat_alloc_canary(m, rows, cols, ld, off, 0x7fa5c301u + ((canary_count++ % 127u) << 1));
}

void tu_mat_alloc_canary(tu_mat *m, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, ptrdiff_t off,
                         uint32_t canary) {
    size_t span = rows > 0 && cols > 0 ? (size_t)((rows - 1) * ld + cols) : 0;
    size_t n = TU_GUARD + (size_t)off + span + TU_GUARD;
    n = (n + 15) & ~(size_t)15; /* aligned_alloc wants a multiple of the alignment */
    *m = (tu_mat){.rows = rows, .cols = cols, .ld = ld, .off = off, .nfloats = n, .canary = canary};
    m->block = aligned_alloc(64, n * sizeof(float));
    if (!m->block) {
        fprintf(stderr, "test: out of memory (%zu floats)\n", n);
        exit(2);
    }
    for (size_t i = 0; i < n; i++) memcpy(&m->block[i], &canary, sizeof(float));
    m->p = m->block + TU_GUARD + off;
}

void tu_mat_free(tu_mat *m) {
    free(m->block);
    m->block = m->p = NULL;
}

ptrdiff_t tu_mat_canary_broken(const tu_mat *m) {
    ptrdiff_t first = TU_GUARD + m->off;
    for (size_t i = 0; i < m->nfloats; i++) {
        ptrdiff_t e = (ptrdiff_t)i - first; /* element offset, if inside the matrix */
        if (e >= 0 && m->rows > 0 && m->cols > 0 && e / m->ld < m->rows && e % m->ld < m->cols)
            continue;
        if (memcmp(&m->block[i], &m->canary, sizeof(float)) != 0) return (ptrdiff_t)i;
    }
    return -1;
}

float *tu_mat_snapshot(const tu_mat *m) {
    float *s = malloc(m->nfloats * sizeof(float));
    if (!s) {
        fprintf(stderr, "test: out of memory\n");
        exit(2);
    }
    memcpy(s, m->block, m->nfloats * sizeof(float));
    return s;
}

int tu_mat_same(const tu_mat *m, const float *snapshot) {
    return memcmp(m->block, snapshot, m->nfloats * sizeof(float)) == 0;
}

/* ---- RNG ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

void tu_seed(uint64_t seed) { rng_state = seed; }

uint64_t tu_rand_u64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

float tu_uniform(float lo, float hi) {
    double u = (double)(tu_rand_u64() >> 11) / 9007199254740992.0; /* [0, 1) */
    return (float)(lo + (hi - lo) * u);
}

void tu_fill_uniform(tu_mat *m, float lo, float hi) {
    for (ptrdiff_t r = 0; r < m->rows; r++)
        for (ptrdiff_t c = 0; c < m->cols; c++) m->p[r * m->ld + c] = tu_uniform(lo, hi);
}

/* ---- shapes ---- */

ptrdiff_t tu_fuzz_size(ptrdiff_t max) {
    if (tu_rand_u64() % 8 == 0) return (ptrdiff_t)(tu_rand_u64() % 4);
    ptrdiff_t v = (ptrdiff_t)exp(tu_uniform(0.0f, 1.0f) * log((double)max));
    return v < 1 ? 1 : v > max ? max : v;
}

size_t tu_add(ptrdiff_t *list, size_t count, size_t cap, ptrdiff_t v, ptrdiff_t max) {
    if (v < 0 || v > max || count >= cap) return count;
    for (size_t i = 0; i < count; i++)
        if (list[i] == v) return count;
    list[count] = v;
    return count + 1;
}

size_t tu_edge_sizes(ptrdiff_t *list, size_t cap, ptrdiff_t max) {
    static const ptrdiff_t fixed[] = {0, 1, 2, 3, 5, 7, 13, 31, 61, 127, 257, 1021, 4099, 65537};
    size_t n = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) n = tu_add(list, n, cap, fixed[i], max);
    for (ptrdiff_t p = 4; p <= max; p *= 2)
        for (ptrdiff_t d = -1; d <= 1; d++) n = tu_add(list, n, cap, p + d, max);
    return n;
}

size_t tu_block_sizes(const kl_variant *v, ptrdiff_t *list, size_t cap) {
    ptrdiff_t b[32];
    size_t nb = v->blocking ? v->blocking(b, 32) : 0, n = 0;
    if (nb > 32) nb = 32;
    for (size_t i = 0; i < nb; i++) {
        if (b[i] < 1 || b[i] > (1 << 20)) continue; /* nonsense edge: api test flags it */
        n = tu_add(list, n, cap, b[i] - 1, PTRDIFF_MAX);
        n = tu_add(list, n, cap, b[i], PTRDIFF_MAX);
        n = tu_add(list, n, cap, b[i] + 1, PTRDIFF_MAX);
        n = tu_add(list, n, cap, 2 * b[i] + 1, PTRDIFF_MAX);
    }
    return n;
}

int tu_nproc(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)n : 1;
}

ptrdiff_t tu_large(void) {
    ptrdiff_t n = 2 * (ptrdiff_t)kl_cpu_cache_bytes(2);
    return n > (1 << 20) ? n : (1 << 20);
}

size_t tu_thread_counts(const kl_variant *v, int *list, size_t cap) {
    size_t n = 0;
    if (!v->threaded) {
        if (cap) list[n++] = 0;
        return n;
    }
    for (int t = 1; t <= tu_nproc() + 1 && n < cap; t++) list[n++] = t;
    return n;
}

/* ---- reporting ---- */

enum { MAX_FAIL_LINES = 8 };

void tu_begin(tu_group *g, const kl_variant *v, const char *name, int threads) {
    *g = (tu_group){.op = kl_op_name(v->op), .variant = v->name, .name = name, .threads = threads};
}

void tu_begin_op(tu_group *g, const char *op, const char *name) {
    *g = (tu_group){.op = op, .variant = "*", .name = name};
}

static void print_head(const tu_group *g, const char *tag) {
    printf("%s %s/%s %s", tag, g->op, g->variant, g->name);
    if (g->threads > 0) printf(" t=%d", g->threads);
}

int tu_check(tu_group *g, int ok, const char *fmt, ...) {
    if (ok) {
        g->pass++;
        return 1;
    }
    g->fail++;
    total_failures++;
    if (g->fail <= MAX_FAIL_LINES) {
        print_head(g, "FAIL");
        printf(": ");
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
    } else if (g->fail == MAX_FAIL_LINES + 1) {
        print_head(g, "FAIL");
        printf(": (further failures in this group not shown)\n");
    }
    fflush(stdout);
    return 0;
}

void tu_end(tu_group *g) {
    print_head(g, g->fail ? "FAIL" : "PASS");
    printf(": %ld/%ld\n", g->pass, g->pass + g->fail);
    fflush(stdout);
}

int tu_available_or_skip(const kl_variant *v) {
    if (kl_variant_available(v)) return 1;
    if (v->isa <= kl_cpu_isa()) /* the ISA is there, so the kernel was not built */
        printf("SKIP %s/%s: not built (needs %s, CPU has %s)\n", kl_op_name(v->op), v->name,
               kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()));
    else
        printf("SKIP %s/%s: needs %s, CPU has %s\n", kl_op_name(v->op), v->name,
               kl_isa_name(v->isa), kl_isa_name(kl_cpu_isa()));
    return 0;
}

int tu_exit_code(void) {
    printf("%s: %ld failure(s)\n", total_failures ? "FAILED" : "ALL PASSED", total_failures);
    return total_failures ? 1 : 0;
}

size_t tu_gemm_block_shapes(const kl_variant *v, ptrdiff_t (*shapes)[3], size_t cap) {
    ptrdiff_t sizes[128];
    size_t ns = tu_block_sizes(v, sizes, 128), count = 0;
#define TU_ADD(a, b, c)                                                                       \
    do {                                                                                       \
        if (count < cap) shapes[count][0] = (a), shapes[count][1] = (b), shapes[count][2] = (c); \
        count++;                                                                               \
    } while (0)
    for (size_t i = 0; i < ns; i++) {
        ptrdiff_t o = (ptrdiff_t)sqrt(1e7 / (double)sizes[i]) | 1;
        o = o < 13 ? 13 : o > 263 ? 263 : o;
        for (int d = 0; d < 3; d++) {
            ptrdiff_t small[3] = {13, 17, 9}, medium[3] = {o, o + 2, o + 4};
            small[d] = medium[d] = sizes[i];
            TU_ADD(small[0], small[1], small[2]);
            TU_ADD(medium[0], medium[1], medium[2]);
        }
    }
    for (size_t i = 0; i < ns; i++)
        for (size_t j = 0; j < ns; j++)
            if (sizes[i] <= 129 && sizes[j] <= 129) TU_ADD(sizes[i], sizes[j], 17);
#undef TU_ADD
    return count;
}
