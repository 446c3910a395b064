/* The matmul blocking model (kernels/matmul/blocking.c) on known cache geometries, the direct
 * rule and the openmp team's share of it (gemm.c; the team's path against its scratch size),
 * and the tuned-file reader (kernels/matmul/tuned.c) with the direct budget it may carry. The
 * expected blocks were worked out by hand from the rule in blocking.c (ways = ceil(bytes /
 * (size / associativity))); a change to the rule must change them here on purpose.
 *
 * Geometries (data caches one core sees; 64-byte lines throughout):
 *   Zen 3     L1d 32 KiB 8-way, L2 512 KiB 8-way, L3 32 MiB 16-way per CCX
 *             (AMD, Software Optimization Guide for AMD Family 19h Processors, pub. 56665)
 *   Zen 5     L1d 48 KiB 12-way, L2 1 MiB 16-way, L3 32 MiB 16-way per CCX
 *             (AMD, Software Optimization Guide for AMD Family 1Ah Processors, pub. 58455)
 *   Skylake-X L1d 32 KiB 8-way, L2 1 MiB 16-way, L3 1.375 MiB 11-way per core: 24.75 MiB for
 *             the 18-core part (Intel 64 and IA-32 Architectures Optimization Reference Manual)
 *   Xeon, family 6 model 207: L1d 48 KiB 12-way, L2 2 MiB 16-way (as sysfs reported them on
 *             a 2-core VM); L3 here an example 160 MiB 15-way, which the model caps at 64 MiB. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, setenv */
#include "test_util.h"

#include "matmul/blocking.h"
#include "matmul/gemm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

typedef struct expect {
    ptrdiff_t mr, nr, bcast, mc, kc, nc; /* bcast: copies of each A element the packing stores */
} expect;

typedef struct machine {
    const char *name;
    kl_mm_caches caches;
    expect blocks[4]; /* 12x32 and 14x32 (AVX-512), 6x16 (AVX2), 4x8 (plain C, SSE) */
} machine;

static const machine machines[] = {
    {"Zen 3",
     {{32 * KiB, 8, 64}, {512 * KiB, 8, 64}, {32 * MiB, 16, 64}},
     {{12, 32, 1, 432, 224, 32768}, {14, 32, 1, 434, 224, 32768}, {6, 16, 1, 216, 448, 16384},
      {4, 8, 4, 24, 896, 8192}}},
    {"Zen 5",
     {{48 * KiB, 12, 64}, {1 * MiB, 16, 64}, {32 * MiB, 16, 64}},
     {{12, 32, 1, 648, 352, 20832}, {14, 32, 1, 644, 352, 20832}, {6, 16, 1, 324, 704, 10416},
      {4, 8, 4, 40, 1408, 5208}}},
    {"Skylake-X",
     {{32 * KiB, 8, 64}, {1 * MiB, 16, 64}, {24 * MiB + 768 * KiB, 11, 64}},
     {{12, 32, 1, 1020, 224, 23680}, {14, 32, 1, 1022, 224, 23680}, {6, 16, 1, 510, 448, 11840},
      {4, 8, 4, 64, 896, 5920}}},
    {"Xeon 6/207",
     {{48 * KiB, 12, 64}, {2 * MiB, 16, 64}, {160 * MiB, 15, 64}},
     {{12, 32, 1, 1296, 352, 41280}, {14, 32, 1, 1302, 352, 41280}, {6, 16, 1, 648, 704, 20640},
      {4, 8, 4, 80, 1408, 10320}}},
};

/* The model caps L3 before it runs (blocking.c does the same in kl_mm_caches_here). */
static kl_mm_caches capped(kl_mm_caches c) {
    if (c.l3.bytes > 64 * MiB) c.l3.bytes = 64 * MiB;
    return c;
}

static ptrdiff_t ways(const kl_mm_cache *c, ptrdiff_t bytes) {
    ptrdiff_t way = (ptrdiff_t)(c->bytes / (size_t)c->ways);
    return (bytes + way - 1) / way;
}

static int test_model(void) {
    int fails = 0;
    for (size_t m = 0; m < sizeof machines / sizeof machines[0]; m++) {
        const machine *mc = &machines[m];
        kl_mm_caches c = capped(mc->caches);
        for (int s = 0; s < 4; s++) {
            const expect *e = &mc->blocks[s];
            kl_mm_blocking b = kl_mm_model(&c, e->mr, e->nr, e->bcast);
            if (b.mr != e->mr || b.nr != e->nr || b.mc != e->mc || b.kc != e->kc || b.nc != e->nc) {
                fprintf(stderr, "FAIL %s %tdx%td: got mc=%td kc=%td nc=%td, want %td %td %td\n",
                        mc->name, e->mr, e->nr, b.mc, b.kc, b.nc, e->mc, e->kc, e->nc);
                fails++;
            }
            /* The rule's own promises, whatever the numbers: B's micro-panel leaves L1 a way
             * for the A stream and C, the A block leaves L2 a way for C and one for B's
             * micro-panel, blocks are multiples of the tile and of the k unroll. */
            if (ways(&c.l1, b.kc * b.nr * 4) > c.l1.ways - 1 ||
                ways(&c.l2, b.mc * b.kc * e->bcast * 4) > c.l2.ways - 2 ||
                ways(&c.l3, b.nc * b.kc * 4) > c.l3.ways - 1 || b.mc % b.mr || b.nc % b.nr ||
                b.kc % 8) {
                fprintf(stderr, "FAIL %s %tdx%td: mc=%td kc=%td nc=%td break the rule\n",
                        mc->name, e->mr, e->nr, b.mc, b.kc, b.nc);
                fails++;
            }
        }
        /* The shape choice: the taller AVX-512 tile moves fewer L1 bytes per flop on all four
         * (score 4.48 vs 4.05 on Zen 3; 4.61 vs 4.16 on Zen 5), and 6x64 or 8x32 never win. */
        const ptrdiff_t shapes[4][2] = {{12, 32}, {14, 32}, {6, 64}, {8, 32}};
        size_t pick = kl_mm_model_pick(&c, shapes, 4);
        if (pick != 1) {
            fprintf(stderr, "FAIL %s: picked %tdx%td, want 14x32\n", mc->name, shapes[pick][0],
                    shapes[pick][1]);
            fails++;
        }
    }
    return fails;
}

/* The direct path's rule (gemm.h) on L2s of 512 KiB (Zen 3), 1 MiB (Zen 4, Zen 5) and 2 MiB
 * (the Xeon), at both edges: AVX2 while A and B fill at most half of L2; AVX-512 while A with
 * a sliver of B (32 columns, or n if fewer), and B, each fit in L2. */
static int test_direct_rule(void) {
    static const struct {
        kl_isa isa;
        ptrdiff_t m, n, k;
        size_t l2;
        int want;
    } cases[] = {
        {KL_ISA_AVX2, 256, 256, 256, 1u << 20, 1},    /* 512 KiB: exactly half */
        {KL_ISA_AVX2, 257, 257, 257, 1u << 20, 0},
        {KL_ISA_AVX2, 181, 181, 181, 512u << 10, 1},  /* 256 KiB of 512 */
        {KL_ISA_AVX2, 182, 182, 182, 512u << 10, 0},
        {KL_ISA_AVX512, 496, 496, 496, 1u << 20, 1},  /* A + sliver 1,047,552 B */
        {KL_ISA_AVX512, 497, 497, 497, 1u << 20, 0},  /* 1,051,652 B */
        {KL_ISA_AVX512, 1, 4096, 64, 1u << 20, 1},    /* B exactly 1 MiB */
        {KL_ISA_AVX512, 4096, 1, 64, 1u << 20, 0},    /* A past L2 */
        {KL_ISA_AVX512, 1, 1, 131071, 1u << 20, 1},   /* a one-column sliver: 1,048,568 B */
        {KL_ISA_AVX512, 17, 32769, 21, 1u << 20, 0},  /* B 2.75 MB: past L2 */
        {KL_ISA_AVX512, 708, 708, 708, 2u << 20, 1},  /* A + sliver 2,095,680 B */
        {KL_ISA_AVX512, 709, 709, 709, 2u << 20, 0},
        {KL_ISA_AVX512, 346, 346, 346, 512u << 10, 1}, /* A + sliver 523,152 of 524,288 bytes */
        {KL_ISA_AVX512, 347, 347, 347, 512u << 10, 0},
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = kl_matmul_direct_rule(cases[i].isa, cases[i].m, cases[i].n, cases[i].k,
                                        cases[i].l2);
        if (got != cases[i].want) {
            fprintf(stderr, "FAIL direct rule, %s %tdx%tdx%td, L2 %zu KiB: got %d, want %d\n",
                    cases[i].isa == KL_ISA_AVX2 ? "avx2" : "avx512", cases[i].m, cases[i].n,
                    cases[i].k, cases[i].l2 >> 10, got, cases[i].want);
            fails++;
        }
    }
    return fails;
}

/* The rows of A one thread of the openmp rung's direct team reads (gemm.h): whole MR panels
 * of m shared out when a team runs (2 or more threads, at least 2 * 64^3 flops) and m has two
 * panels per thread; else all of m. MR 12 and 6 are examples (AVX-512's model may pick 14). */
static int test_team_rows(void) {
    static const struct {
        ptrdiff_t m, n, k, mr;
        int threads;
        ptrdiff_t want;
    } cases[] = {
        {512, 512, 512, 12, 2, 264},  /* 43 panels: 22 + 21, the larger share */
        {512, 512, 512, 12, 1, 512},  /* one thread: all */
        {512, 512, 512, 12, 3, 180},  /* 43 panels: 15 + 14 + 14 */
        {47, 512, 512, 12, 2, 47},    /* 4 panels < 2 per thread: the team splits columns */
        {48, 512, 512, 12, 2, 24},    /* exactly 2 panels per thread */
        {64, 64, 63, 6, 2, 64},       /* under 2 * 64^3 flops: one thread */
        {64, 64, 64, 6, 2, 36},       /* at it: 11 panels, 6 + 5 */
    };
    int fails = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ptrdiff_t got = kl_matmul_team_rows(cases[i].m, cases[i].n, cases[i].k, cases[i].mr,
                                            cases[i].threads);
        if (got != cases[i].want) {
            fprintf(stderr, "FAIL team rows, %tdx%tdx%td, MR %td, %d threads: got %td, want %td\n",
                    cases[i].m, cases[i].n, cases[i].k, cases[i].mr, cases[i].threads, got,
                    cases[i].want);
            fails++;
        }
    }
    /* the rule on the share: 512^3 on AVX-512 with a 1 MiB L2 is packed on one thread and
     * direct on a team of two (264 + 32 rows of 2 KiB, and B of exactly 1 MiB) */
    if (kl_matmul_direct_rule(KL_ISA_AVX512, kl_matmul_team_rows(512, 512, 512, 12, 1), 512, 512,
                              1u << 20) != 0 ||
        kl_matmul_direct_rule(KL_ISA_AVX512, kl_matmul_team_rows(512, 512, 512, 12, 2), 512, 512,
                              1u << 20) != 1) {
        fprintf(stderr, "FAIL team rows: 512^3 should be packed on 1 thread, direct on 2\n");
        fails++;
    }
    return fails;
}

/* The openmp rung's path against its scratch size, on a team of 2: the smallest m (n = 64,
 * k = 256) whose share passes the direct rule while all of A does not. There the rung must run
 * direct, allocating nothing, as kl_matmul_openmp_scratch says; at 4m it packs and allocates.
 * aligned_alloc (the rung's only allocator) is counted here: the library is linked in
 * statically, so its calls bind to this definition. Not under AddressSanitizer, which
 * intercepts the allocator itself. */
#if defined(_OPENMP) && !defined(__SANITIZE_ADDRESS__)
#include <malloc.h>
static volatile int counting;
static volatile size_t allocations;
void *aligned_alloc(size_t alignment, size_t size) {
    if (counting) allocations++;
    return memalign(alignment, size);
}

/* aligned_alloc calls of one openmp call; *status: what it returned */
static size_t allocations_of(ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, kl_status *status) {
    float *A = calloc((size_t)(m * k), sizeof(float)), *B = calloc((size_t)(k * n), sizeof(float));
    float *C = calloc((size_t)(m * n), sizeof(float));
    allocations = 0, counting = 1;
    kl_status s = kl_matmul_variant("openmp", m, n, k, 1.0f, A, k, B, n, 0.0f, C, n);
    counting = 0;
    free(A), free(B), free(C);
    if (s != KL_OK && *status == KL_OK) *status = s;
    return allocations;
}

static int test_team_path_scratch(void) {
    const kl_isa isa = kl_matmul_dispatch()->isa;
    const ptrdiff_t mr = kl_gemm_openmp_kernel()->mr, n = 64, k = 256;
    ptrdiff_t m = 0;
    for (ptrdiff_t c = 4 * mr; c <= (1 << 16) && !m; c += mr)
        if (kl_matmul_team_direct_ok(isa, c, n, k, mr, 2) && !kl_matmul_direct_ok(isa, c, n, k))
            m = c;
    if (!m) {
        printf("SKIP team path: no shape where the share and all of A take different paths\n");
        return 0;
    }
    kl_set_num_threads(2);
    kl_status s = KL_OK;
    allocations_of(m, n, k, &s); /* not counted: the first team may allocate its own state */
    size_t direct = allocations_of(m, n, k, &s), packed = allocations_of(4 * m, n, k, &s);
    size_t sd = kl_matmul_openmp_scratch(m, n, k, 2), sp = kl_matmul_openmp_scratch(4 * m, n, k, 2);
    kl_set_num_threads(0);
    if (s == KL_EUNSUPPORTED) { /* a student tree before the openmp rung is written */
        printf("SKIP team path: matmul/openmp is not implemented yet\n");
        return 0;
    }
    int bad = s != KL_OK || direct != 0 || sd != 0 || packed == 0 || sp == 0;
    if (bad)
        fprintf(stderr, "FAIL team path, %tdx%tdx%td on 2 threads: %zu allocations, scratch %zu "
                        "(want 0, 0); at m = %td: %zu allocations, scratch %zu (want > 0)\n",
                m, n, k, direct, sd, 4 * m, packed, sp);
    return bad;
}
#else
static int test_team_path_scratch(void) {
    printf("SKIP team path: needs OpenMP and a build without AddressSanitizer\n");
    return 0;
}
#endif

/* ---- tuned file ---- */

static int parse_case(const char *what, const char *text, int want_ok, const char *want_reason) {
    kl_mm_tuned t;
    memset(&t, 0, sizeof t);
    kl_mm_tuned_parse(text, "Test CPU 9000", "avx512", &t);
    int bad = t.ok != want_ok || (!want_ok && (!t.reason[0] || !strstr(t.reason, want_reason)));
    if (bad)
        fprintf(stderr, "FAIL tuned file, %s: ok=%d reason '%s' (want ok=%d, '%s')\n", what, t.ok,
                t.reason, want_ok, want_reason);
    return bad;
}

#define GOOD_TAIL "\"mr\": 14, \"nr\": 32, \"mc\": 448, \"kc\": 256, \"nc\": 4096}"

static int test_tuned_parse(void) {
    int f = 0;
    const char *good = "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\",\n " GOOD_TAIL "\n";
    kl_mm_tuned t;
    kl_mm_tuned_parse(good, "Test CPU 9000", "avx512", &t);
    if (!t.ok || t.b.mr != 14 || t.b.nr != 32 || t.b.mc != 448 || t.b.kc != 256 || t.b.nc != 4096 ||
        t.direct_kib != 0) {
        fprintf(stderr, "FAIL tuned file: a good file was not read right (%s)\n", t.reason);
        f++;
    }
    /* the optional direct-path budget, in KiB */
    kl_mm_tuned_parse("{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"direct_kib\": 1536, "
                      GOOD_TAIL, "Test CPU 9000", "avx512", &t);
    if (!t.ok || t.direct_kib != 1536 || t.b.mc != 448) {
        fprintf(stderr, "FAIL tuned file: direct_kib 1536 not read (%s)\n", t.reason);
        f++;
    }
    f += parse_case("direct_kib zero", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", "
                    "\"direct_kib\": 0, " GOOD_TAIL, 0, "at least 1");
    f += parse_case("direct_kib too large", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", "
                    "\"direct_kib\": 1048576, " GOOD_TAIL, 0, "whole number");
    f += parse_case("direct_kib twice", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", "
                    "\"direct_kib\": 512, \"direct_kib\": 512, " GOOD_TAIL, 0, "twice");
    f += parse_case("foreign CPU", "{\"cpu_model\": \"Other CPU\", \"isa\": \"avx512\", " GOOD_TAIL,
                    0, "another CPU");
    f += parse_case("foreign ISA", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx2\", " GOOD_TAIL,
                    0, "ISA");
    f += parse_case("empty", "", 0, "not a JSON object");
    f += parse_case("truncated", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 1", 0,
                    "after \"mr\"");
    f += parse_case("missing key", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 14}",
                    0, "missing");
    f += parse_case("unknown key", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"xx\": 1, "
                    GOOD_TAIL, 0, "unknown key");
    f += parse_case("string for a number",
                    "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": \"14\", \"nr\": 32, "
                    "\"mc\": 448, \"kc\": 256, \"nc\": 4096}", 0, "whole number");
    f += parse_case("negative", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": -14, "
                    "\"nr\": 32, \"mc\": 448, \"kc\": 256, \"nc\": 4096}", 0, "whole number");
    f += parse_case("fraction", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 14.5, "
                    "\"nr\": 32, \"mc\": 448, \"kc\": 256, \"nc\": 4096}", 0, "whole number");
    f += parse_case("mc not a multiple of mr",
                    "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 14, \"nr\": 32, "
                    "\"mc\": 450, \"kc\": 256, \"nc\": 4096}", 0, "rules");
    f += parse_case("kc zero", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 14, "
                    "\"nr\": 32, \"mc\": 448, \"kc\": 0, \"nc\": 4096}", 0, "rules");
    f += parse_case("duplicate", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", \"mr\": 14, "
                    GOOD_TAIL, 0, "twice");
    f += parse_case("trailing comma", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", "
                    "\"mr\": 14, \"nr\": 32, \"mc\": 448, \"kc\": 256, \"nc\": 4096,}", 0, "after ','");
    f += parse_case("text after", "{\"cpu_model\": \"Test CPU 9000\", \"isa\": \"avx512\", "
                    GOOD_TAIL " {}", 0, "after the object");
    f += parse_case("escape in a string", "{\"cpu_model\": \"Test\\\" CPU\", \"isa\": \"avx512\", "
                    GOOD_TAIL, 0, "plain string");
    f += parse_case("an array", "[1, 2]", 0, "not a JSON object");
    return f;
}

/* The library's direct budget from a good tuned file with direct_kib, in a fresh process (this
 * one has read its file already): test_blocking --direct-budget prints what it sees. */
static int print_direct_budget(void) {
    kl_isa other = kl_cpu_isa() == KL_ISA_AVX512 ? KL_ISA_AVX2 : KL_ISA_AVX512;
    printf("%zu %s %zu\n", kl_matmul_direct_bytes(), kl_matmul_direct_source(),
           kl_matmul_direct_bytes_for(other));
    return 0;
}

/* One child's view with env (an assignment or ""), against the wanted budget, source and the
 * other ISA's budget. */
static int child_budget(const char *path, const char *env, size_t want, const char *want_source,
                        size_t want_other) {
    char cmd[1024], line[128] = "", source[32] = "";
    snprintf(cmd, sizeof cmd, "%s KL_MATMUL_TUNED='%s' /proc/%d/exe --direct-budget", env, path,
             (int)getpid());
    FILE *p = popen(cmd, "r");
    if (p && !fgets(line, sizeof line, p)) line[0] = '\0';
    if (p) pclose(p);
    size_t bytes = 0, other = 0;
    if (sscanf(line, "%zu %31s %zu", &bytes, source, &other) == 3 && bytes == want &&
        strcmp(source, want_source) == 0 && other == want_other)
        return 0;
    fprintf(stderr, "FAIL direct budget with '%s' and direct_kib 333 in this CPU's file: the "
                    "library saw '%s' (want %zu %s %zu)\n", env, line, want, want_source, want_other);
    return 1;
}

static int direct_budget_from_file(const char *path) {
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"cpu_model\": \"%s\", \"isa\": \"%s\", \"direct_kib\": 333, " GOOD_TAIL "\n",
            kl_cpu_model(), kl_isa_name(kl_cpu_isa()));
    fclose(f);
    /* the file's budget for its own ISA only; the environment's for every ISA */
    return child_budget(path, "", 333 << 10, "tuned", kl_cpu_cache_bytes(2)) +
           child_budget(path, "KL_MATMUL_DIRECT_KIB=77", 77 << 10, "environment", 77 << 10);
}

/* Through the environment: KL_MATMUL_TUNED names a file; a bad one is rejected with its path
 * and reason, and the model's blocking runs. Run last: the library reads the file once. */
static int test_tuned_load(void) {
    char path[] = "/tmp/kl_tuned_test_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return fprintf(stderr, "FAIL mkstemp\n"), 1;
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{\"cpu_model\": \"A CPU this is not\", \"isa\": \"%s\", " GOOD_TAIL "\n",
            kl_isa_name(kl_cpu_isa()));
    fclose(f);
    kl_mm_tuned t;
    setenv("KL_MATMUL_TUNED", path, 1);
    kl_mm_tuned_load(&t);
    int fails = 0;
    if (t.ok || !strstr(t.reason, path) || !strstr(t.reason, "another CPU")) {
        fprintf(stderr, "FAIL foreign file loaded: ok=%d '%s'\n", t.ok, t.reason);
        fails++;
    }
    /* The library's own view: falls back to the model and says why. */
    ptrdiff_t b[6];
    kl_mm_caches here = kl_mm_caches_here();
    if (kl_matmul_blocking(b, 6) != KL_OK || strcmp(kl_matmul_blocking_source(), "model") != 0 ||
        !strstr(kl_matmul_blocking_detail(), "another CPU")) {
        fprintf(stderr, "FAIL library: source '%s', detail '%s'\n", kl_matmul_blocking_source(),
                kl_matmul_blocking_detail());
        fails++;
    } else if (strcmp(kl_matmul_direct_source(), "model") != 0 ||
               kl_matmul_direct_bytes() != kl_cpu_cache_bytes(2)) {
        fprintf(stderr, "FAIL library: direct budget %zu from the %s, want L2 %zu from the model\n",
                kl_matmul_direct_bytes(), kl_matmul_direct_source(), kl_cpu_cache_bytes(2));
        fails++;
    } else {
        ptrdiff_t mr, nr, bcast;
        kl_gemm_best_shape(&mr, &nr, &bcast);
        kl_mm_blocking m = kl_mm_model(&here, b[0], b[1], bcast);
        if (m.mc != b[2] || m.kc != b[3] || m.nc != b[4] || b[5] != bcast) {
            fprintf(stderr, "FAIL library blocking is not the model's\n");
            fails++;
        }
    }
    /* A good file for this CPU is read. */
    f = fopen(path, "w");
    fprintf(f, "{\"cpu_model\": \"%s\", \"isa\": \"%s\", " GOOD_TAIL "\n", kl_cpu_model(),
            kl_isa_name(kl_cpu_isa()));
    fclose(f);
    kl_mm_tuned_load(&t);
    if (!t.ok || t.b.kc != 256 || strcmp(t.path, path) != 0) {
        fprintf(stderr, "FAIL good file for this CPU not read: '%s'\n", t.reason);
        fails++;
    }
    fails += direct_budget_from_file(path);
    setenv("KL_MATMUL_TUNED", "/nonexistent/kl.json", 1);
    kl_mm_tuned_load(&t);
    if (t.ok || !strstr(t.reason, "no tuned file")) {
        fprintf(stderr, "FAIL missing file: '%s'\n", t.reason);
        fails++;
    }
    remove(path);
    return fails;
}

int main(int argc, char **argv) {
    if (argc == 2 && strcmp(argv[1], "--direct-budget") == 0) return print_direct_budget();
    unsetenv("KL_MATMUL_DIRECT_KIB"); /* the budget under test is the file's or L2 */
    /* the team path last: its calls fix this process's blocking, which test_tuned_load sets */
    int fails = test_model() + test_direct_rule() + test_team_rows() + test_tuned_parse() +
                test_tuned_load() + test_team_path_scratch();
    if (fails) {
        fprintf(stderr, "%d failure(s)\n", fails);
        return 1;
    }
    printf("blocking model and tuned file: all checks passed\n");
    return 0;
}
