/* Cache blocking for the packed matmul rungs, from each cache level's size, associativity and
 * line (Low, Igual, Smith, Quintana-Orti, "Analytical Modeling Is Enough for High-Performance
 * BLIS", ACM TOMS 43(2), 2016). A W-way cache of S bytes is W "ways" of S/W bytes each; an
 * array of X bytes walked contiguously occupies ceil(X / (S/W)) ways of every set it touches,
 * and LRU evicts whole ways' worth. So each level is shared out in ways, not bytes:
 *
 *   KC (L1): the KC x NR micro-panel of B is reused by every MR x KC micro-panel of A that
 *       streams past it, so B must stay in L1. Low et al. also keep a whole A micro-panel in
 *       L1 (ways(A) + ways(B) <= W1 - 1); our micro-kernels prefetch A from L2 a few k steps
 *       ahead instead (a few hundred bytes in flight: the 1-2 broadcasts per FMA that A costs
 *       are well within what L2 delivers), so A and the C tile need only the one spare way:
 *         ways(KC*NR*4) <= W1 - 1,  KC the largest multiple of 8 that fits.
 *       (Keeping all of A in L1 halves KC for 32-wide float tiles on an 8-way L1, and the
 *       C tile is then read and written twice as often: measurably slower on AVX-512.)
 *   MC (L2): the MC x KC packed block of A is reused by every micro-panel of B. It gets the
 *       ways the B micro-panel (which passes through L2) and one way for C leave:
 *         MC = (W2 - 1 - ways2(KC*NR*4)) * (S2/W2) / (KC*4*bcast),  down to a multiple of MR.
 *       (bcast: the copies of each element of A the packing stores; 1 except for the plain-C
 *       rung, whose packing stores 4 so its SSE kernel loads a broadcast; see packed.c.)
 *   NC (L3): the KC x NC packed panel of B is reused by every MC block of A; the same with A:
 *         NC = (W3 - 1 - ways3(MC*KC*4*bcast)) * (S3/W3) / (KC*4),  down to a multiple of NR.
 *
 * Choosing the micro-kernel shape: each candidate MR x NR gets its KC from the rule above, and
 * the model keeps the one that moves the fewest L1 bytes per flop: per k step the kernel loads
 * MR + NR floats for 2*MR*NR flops, and once per KC it reads and writes the MR x NR C tile.
 * A wider tile loads less per flop but leaves a shorter KC; the score weighs both.
 *
 * L3 is capped at 64 MiB (the largest slice one core reaches on current x86; some VMs report
 * the host's total). The tuned file (tuned.c, written by scripts/tune) may replace the model's
 * point for one shape; KL_MATMUL_MC / KC / NC override single blocks; KL_MATMUL_SHAPE the
 * shape. kl_matmul_blocking_source() says which of the three ran. */
#include "blocking.h"

#include "matmul.h"
#include "variants.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { F = sizeof(float), KC_STEP = 8 /* a multiple of the micro-kernels' k unroll (4) */ };

/* ---- the model ---- */

static ptrdiff_t way_bytes(const kl_mm_cache *c) {
    ptrdiff_t w = (ptrdiff_t)(c->bytes / (size_t)(c->ways > 0 ? c->ways : 1));
    return w > 0 ? w : 1;
}

/* Ways an array of `bytes` occupies in cache c. */
static ptrdiff_t ways_of(const kl_mm_cache *c, ptrdiff_t bytes) {
    return (bytes + way_bytes(c) - 1) / way_bytes(c);
}

static ptrdiff_t round_down(ptrdiff_t v, ptrdiff_t to) { return v < to ? to : v / to * to; }

static ptrdiff_t model_kc(const kl_mm_cache *l1, ptrdiff_t nr) {
    ptrdiff_t kc = KC_STEP;
    while (ways_of(l1, (kc + KC_STEP) * nr * F) <= l1->ways - 1 && kc < 4096) kc += KC_STEP;
    return kc;
}

/* A packed row of A's block is kc * bcast floats (bcast copies of each element, gemm.h). */
static ptrdiff_t model_mc(const kl_mm_cache *l2, ptrdiff_t kc, ptrdiff_t mr, ptrdiff_t nr,
                          ptrdiff_t bcast) {
    ptrdiff_t ways_a = l2->ways - 1 - ways_of(l2, kc * nr * F);
    return round_down((ways_a > 1 ? ways_a : 1) * way_bytes(l2) / (kc * bcast * F), mr);
}

static ptrdiff_t model_nc(const kl_mm_cache *l3, ptrdiff_t kc, ptrdiff_t mc, ptrdiff_t nr,
                          ptrdiff_t bcast) {
    ptrdiff_t ways_b = l3->ways - 1 - ways_of(l3, mc * kc * bcast * F);
    return round_down((ways_b > 1 ? ways_b : 1) * way_bytes(l3) / (kc * F), nr);
}

kl_mm_blocking kl_mm_model(const kl_mm_caches *c, ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast) {
    kl_mm_blocking b = {mr, nr, 0, 0, 0};
    b.kc = model_kc(&c->l1, nr);
    b.mc = model_mc(&c->l2, b.kc, mr, nr, bcast);
    b.nc = model_nc(&c->l3, b.kc, b.mc, nr, bcast);
    return b;
}

double kl_mm_model_score(const kl_mm_blocking *b) {
    double flops = 2.0 * (double)(b->mr * b->nr);
    double bytes = (double)((b->mr + b->nr) * F) + 2.0 * (double)(b->mr * b->nr * F) / (double)b->kc;
    return flops / bytes;
}

size_t kl_mm_model_pick(const kl_mm_caches *c, const ptrdiff_t (*shapes)[2], size_t count) {
    size_t best = 0;
    double best_score = -1;
    for (size_t i = 0; i < count; i++) {
        kl_mm_blocking b = kl_mm_model(c, shapes[i][0], shapes[i][1], 1);
        double s = kl_mm_model_score(&b);
        if (s > best_score) best = i, best_score = s;
    }
    return best;
}

/* ---- this machine ---- */

kl_mm_caches kl_mm_caches_here(void) {
    kl_mm_caches c;
    kl_mm_cache *lv[3] = {&c.l1, &c.l2, &c.l3};
    for (int l = 1; l <= 3; l++) {
        lv[l - 1]->bytes = kl_cpu_cache_bytes(l);
        lv[l - 1]->ways = kl_cpu_cache_ways(l);
        lv[l - 1]->line = kl_cpu_cache_line(l);
    }
    const size_t l3_cap = (size_t)64 << 20; /* see the rule above */
    if (c.l3.bytes > l3_cap) c.l3.bytes = l3_cap;
    return c;
}

/* The tuned file, read once (the first blocking or direct budget asked for). The first
 * caller reads it; others wait for `tuned_state` to say it is ready. */
static kl_mm_tuned tuned;
static int tuned_state; /* 0 unread, 1 reading, 2 ready */

static const kl_mm_tuned *tuned_file(void) {
    int expect = 0;
    if (__atomic_compare_exchange_n(&tuned_state, &expect, 1, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE)) {
        kl_mm_tuned_load(&tuned);
        __atomic_store_n(&tuned_state, 2, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&tuned_state, __ATOMIC_ACQUIRE) != 2) {}
    return &tuned;
}

/* KL_MATMUL_<name> as a block size in (0, 2^20), else 0 (unset or nonsense: ignored). */
static ptrdiff_t env_block(const char *name) {
    ptrdiff_t v = kl_env_size(name, 1, (1 << 20) - 1, NULL);
    return v > 0 ? v : 0;
}

/* Where each shape's blocking came from, for kl_matmul_blocking_source. */
enum { FROM_MODEL, FROM_TUNED, FROM_ENV };

static kl_mm_blocking compute(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast, int *from) {
    kl_mm_caches here = kl_mm_caches_here();
    kl_mm_blocking b = kl_mm_model(&here, mr, nr, bcast);
    *from = FROM_MODEL;
    const kl_mm_tuned *t = tuned_file();
    if (t->ok && t->b.mr == mr && t->b.nr == nr) b = t->b, *from = FROM_TUNED;
    ptrdiff_t mc = env_block("KL_MATMUL_MC"), kc = env_block("KL_MATMUL_KC"),
              nc = env_block("KL_MATMUL_NC");
    if (kc) b.kc = round_down(kc, KC_STEP);
    if (mc) b.mc = round_down(mc, mr);
    if (nc) b.nc = round_down(nc, nr);
    if (mc || kc || nc) *from = FROM_ENV;
    return b;
}

/* A few micro-kernel shapes exist (scalar, AVX2, AVX-512 ones); cache each one's blocking.
 * A spin lock guards filling a slot (first calls only); reads of a ready slot take no lock. */
#define SLOTS 6
static struct { int ready, from; ptrdiff_t mr, nr, bcast; kl_mm_blocking b; } cache[SLOTS];
static atomic_flag lock = ATOMIC_FLAG_INIT;

static kl_mm_blocking blocking_for(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast, int *from) {
    for (int i = 0; i < SLOTS; i++)
        if (__atomic_load_n(&cache[i].ready, __ATOMIC_ACQUIRE) && cache[i].mr == mr &&
            cache[i].nr == nr && cache[i].bcast == bcast) {
            if (from) *from = cache[i].from;
            return cache[i].b;
        }
    int f;
    kl_mm_blocking b = compute(mr, nr, bcast, &f);
    if (from) *from = f;
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire)) {}
    for (int i = 0; i < SLOTS; i++) {
        if (cache[i].ready && cache[i].mr == mr && cache[i].nr == nr && cache[i].bcast == bcast)
            break;
        if (!cache[i].ready) {
            cache[i].mr = mr;
            cache[i].nr = nr;
            cache[i].bcast = bcast;
            cache[i].b = b;
            cache[i].from = f;
            __atomic_store_n(&cache[i].ready, 1, __ATOMIC_RELEASE);
            break;
        }
    }
    atomic_flag_clear_explicit(&lock, memory_order_release);
    return b;
}

kl_mm_blocking kl_mm_blocking_for(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast) {
    return blocking_for(mr, nr, bcast, NULL);
}

/* KL_MATMUL_SHAPE's index in shapes, or count when unset or not one of them. */
static size_t env_shape(const ptrdiff_t (*shapes)[2], size_t count) {
    const char *s = getenv("KL_MATMUL_SHAPE");
    long mr = 0, nr = 0;
    if (s && sscanf(s, "%ldx%ld", &mr, &nr) == 2)
        for (size_t i = 0; i < count; i++)
            if (shapes[i][0] == mr && shapes[i][1] == nr) return i;
    return count;
}

size_t kl_mm_shape_pick(const ptrdiff_t (*shapes)[2], size_t count) {
    size_t e = env_shape(shapes, count);
    if (e < count) return e;
    const kl_mm_tuned *t = tuned_file();
    if (t->ok)
        for (size_t i = 0; i < count; i++)
            if (shapes[i][0] == t->b.mr && shapes[i][1] == t->b.nr) return i;
    kl_mm_caches here = kl_mm_caches_here();
    return kl_mm_model_pick(&here, shapes, count);
}

size_t kl_mm_blocking_list(ptrdiff_t mr, ptrdiff_t nr, ptrdiff_t bcast, ptrdiff_t *sizes,
                           size_t cap) {
    kl_mm_blocking b = kl_mm_blocking_for(mr, nr, bcast);
    const ptrdiff_t all[5] = {b.mr, b.nr, b.mc, b.kc, b.nc};
    for (size_t i = 0; i < cap && i < 5; i++) sizes[i] = all[i];
    return 5;
}

/* ---- the public report of what the best rung runs (kernellab.h) ---- */

kl_status kl_matmul_blocking(ptrdiff_t *sizes, size_t cap) {
    if (!sizes && cap) return KL_EINVAL;
    ptrdiff_t mr, nr, bcast;
    kl_gemm_best_shape(&mr, &nr, &bcast);
    kl_mm_blocking_list(mr, nr, bcast, sizes, cap);
    if (cap > 5) sizes[5] = bcast;
    return KL_OK;
}

const char *kl_matmul_blocking_source(void) {
    static const char *const names[] = {"model", "tuned", "environment"};
    ptrdiff_t mr, nr, bcast;
    int from;
    kl_gemm_best_shape(&mr, &nr, &bcast);
    blocking_for(mr, nr, bcast, &from);
    const ptrdiff_t shape[1][2] = {{mr, nr}};
    return env_shape(shape, 1) == 0 ? names[FROM_ENV] : names[from];
}

const char *kl_matmul_blocking_detail(void) {
    const kl_mm_tuned *t = tuned_file();
    return t->ok ? t->path : t->reason;
}

/* The direct-path budget of `isa`'s rung (gemm.h's rule measures A and B against it) and where
 * it came from: KL_MATMUL_DIRECT_KIB; else the tuned file's direct_kib, for the ISA it was
 * timed on (this CPU's best: another ISA's rung keeps L2), whatever blocking runs; else L2.
 * Worked out once: every matmul call asks. */
static size_t direct_bytes(kl_isa isa, int *from) {
    static int done;
    static size_t bytes;
    static int source;
    if (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) { /* benign race: all compute the same */
        ptrdiff_t kib = kl_env_size("KL_MATMUL_DIRECT_KIB", 0, 1 << 20, NULL);
        const kl_mm_tuned *t = tuned_file();
        source = kib >= 0 ? FROM_ENV : t->ok && t->direct_kib > 0 ? FROM_TUNED : FROM_MODEL;
        bytes = source == FROM_ENV     ? (size_t)kib << 10
                : source == FROM_TUNED ? (size_t)t->direct_kib << 10
                                       : kl_cpu_cache_bytes(2);
        __atomic_store_n(&done, 1, __ATOMIC_RELEASE);
    }
    if (source == FROM_TUNED && isa != kl_cpu_isa()) {
        *from = FROM_MODEL;
        return kl_cpu_cache_bytes(2);
    }
    *from = source;
    return bytes;
}

size_t kl_matmul_direct_bytes_for(kl_isa isa) {
    int from;
    return direct_bytes(isa, &from);
}

size_t kl_matmul_direct_bytes(void) { return kl_matmul_direct_bytes_for(kl_cpu_isa()); }

const char *kl_matmul_direct_source(void) {
    static const char *const names[] = {"model", "tuned", "environment"};
    int from;
    direct_bytes(kl_cpu_isa(), &from);
    return names[from];
}

const char *kl_matmul_tuned_path(void) {
    static char path[512];
    static volatile int done; /* benign race: every first caller writes the same */
    if (!done) {
        kl_mm_tuned_default_path(path, sizeof path);
        done = 1;
    }
    return path;
}

const char *kl_cpu_model(void) { return kl_mm_cpu_model(); }
