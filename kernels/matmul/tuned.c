/* The tuned-blocking file scripts/tune writes (format in blocking.h). The library must not
 * abort or print, and a bad file must never change what runs: every problem becomes a reason
 * string and the model's blocking stays. The parser reads exactly one flat JSON object of
 * string and whole-number values (all the file ever holds), so it needs no JSON library. */
#include "blocking.h"

#include "variants.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_FILE = 4096 };

/* Sets t's reason; returns 0 (so a parser step can `return reject(...)`). */
static int reject(kl_mm_tuned *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->reason, sizeof t->reason, fmt, ap);
    va_end(ap);
    t->ok = 0;
    return 0;
}

static const char *skip_ws(const char *p) {
    while (isspace((unsigned char)*p)) p++;
    return p;
}

/* A JSON string without escapes (cpu model names have none) into buf; NULL if not one. */
static const char *parse_string(const char *p, char *buf, size_t cap) {
    if (*p != '"') return NULL;
    size_t n = 0;
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' || (unsigned char)*p < 0x20 || n + 1 >= cap) return NULL;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return *p == '"' ? p + 1 : NULL;
}

static const char *parse_int(const char *p, long *v) {
    char *end;
    if (!isdigit((unsigned char)*p)) return NULL;
    *v = strtol(p, &end, 10);
    return *v >= 0 && *v < (1L << 20) && *end != '.' && *end != 'e' && *end != 'E' ? end : NULL;
}

/* The five blocks, then the optional direct-path budget (KiB; 0 when absent). */
static const char *const int_keys[6] = {"mr", "nr", "mc", "kc", "nc", "direct_kib"};

static int parse(const char *text, const char *cpu_model, const char *isa_name, kl_mm_tuned *t) {
    char key[32], model[256] = "", isa[32] = "";
    long v[6] = {0};
    int seen = 0; /* bit per key: 0..5 the ints, 6 cpu_model, 7 isa */
    const char *p = skip_ws(text);
    t->ok = 0;
    if (*p++ != '{') return reject(t, "not a JSON object");
    for (p = skip_ws(p); *p != '}';) {
        if (!(p = parse_string(p, key, sizeof key))) return reject(t, "malformed key");
        p = skip_ws(p);
        if (*p++ != ':') return reject(t, "':' missing after \"%s\"", key);
        p = skip_ws(p);
        int bit = -1;
        for (int i = 0; i < 6; i++)
            if (strcmp(key, int_keys[i]) == 0) bit = i;
        if (bit >= 0) {
            if (!(p = parse_int(p, &v[bit])))
                return reject(t, "\"%s\" is not a whole number below 2^20", key);
        } else if (strcmp(key, "cpu_model") == 0 || strcmp(key, "isa") == 0) {
            bit = key[0] == 'c' ? 6 : 7;
            if (!(p = parse_string(p, bit == 6 ? model : isa, bit == 6 ? sizeof model : sizeof isa)))
                return reject(t, "\"%s\" is not a plain string", key);
        } else {
            return reject(t, "unknown key \"%s\"", key);
        }
        if (seen & (1 << bit)) return reject(t, "\"%s\" given twice", key);
        seen |= 1 << bit;
        p = skip_ws(p);
        if (*p == ',') {
            p = skip_ws(p + 1);
            if (*p != '"') return reject(t, "a key expected after ','");
        } else if (*p != '}') return reject(t, "',' or '}' expected after \"%s\"", key);
    }
    if (*skip_ws(p + 1) != '\0') return reject(t, "text after the object");
    for (int i = 0; i < 8; i++)
        if (i != 5 && !(seen & (1 << i))) /* direct_kib (5) is optional */
            return reject(t, "\"%s\" missing", i < 5 ? int_keys[i] : i == 6 ? "cpu_model" : "isa");
    if (strcmp(model, cpu_model) != 0)
        return reject(t, "tuned for another CPU (\"%s\"), this is \"%s\"", model, cpu_model);
    if (strcmp(isa, isa_name) != 0)
        return reject(t, "tuned for ISA %s, this CPU runs %s", isa, isa_name);
    kl_mm_blocking b = {v[0], v[1], v[2], v[3], v[4]};
    if (b.mr < 1 || b.nr < 1 || b.kc < 8 || b.kc % 8 || b.mc < b.mr || b.mc % b.mr ||
        b.nc < b.nr || b.nc % b.nr)
        return reject(t, "blocks break the rules (kc %% 8, mc %% mr, nc %% nr, all >= 1)");
    if ((seen & (1 << 5)) && v[5] < 1) return reject(t, "\"direct_kib\" must be at least 1");
    t->b = b;
    t->direct_kib = v[5];
    t->ok = 1;
    t->reason[0] = '\0';
    return 1;
}

void kl_mm_tuned_parse(const char *text, const char *cpu_model, const char *isa_name,
                       kl_mm_tuned *t) {
    parse(text, cpu_model, isa_name, t);
}

const char *kl_mm_cpu_model(void) {
    static char model[256];
    static volatile int done; /* benign race: every first caller writes the same */
    if (!done) {
        char line[512], out[256] = "unknown";
        FILE *f = fopen("/proc/cpuinfo", "r");
        while (f && fgets(line, sizeof line, f)) {
            char *c = strchr(line, ':');
            if (strncmp(line, "model name", 10) != 0 || !c) continue;
            for (c++; *c == ' ' || *c == '\t'; c++) {}
            size_t n = strcspn(c, "\n");
            while (n && c[n - 1] == ' ') n--;
            snprintf(out, sizeof out, "%.*s", (int)n, c);
            break;
        }
        if (f) fclose(f);
        memcpy(model, out, sizeof model);
        done = 1;
    }
    return model;
}

void kl_mm_tuned_default_path(char *buf, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char slug[128];
    size_t n = 0;
    for (const char *c = kl_mm_cpu_model(); *c && n + 1 < sizeof slug; c++) /* a file name */
        slug[n++] = isalnum((unsigned char)*c) ? (char)tolower((unsigned char)*c) : '-';
    slug[n] = '\0';
    if (xdg && xdg[0] == '/') snprintf(buf, cap, "%s/kernellab/matmul-%s.json", xdg, slug);
    else if (home && home[0]) snprintf(buf, cap, "%s/.cache/kernellab/matmul-%s.json", home, slug);
    else if (cap) buf[0] = '\0';
}

static int load(kl_mm_tuned *t) {
    const char *env = getenv("KL_MATMUL_TUNED");
    t->ok = 0;
    t->path[0] = '\0';
    if (env && (!env[0] || strcmp(env, "none") == 0))
        return reject(t, "no tuned file (KL_MATMUL_TUNED=%s)", env);
    if (env) snprintf(t->path, sizeof t->path, "%s", env);
    else kl_mm_tuned_default_path(t->path, sizeof t->path);
    if (!t->path[0]) return reject(t, "no tuned file (no cache directory)");
    FILE *f = fopen(t->path, "r");
    if (!f) return reject(t, "no tuned file at %s", t->path);
    char text[MAX_FILE + 1];
    size_t len = fread(text, 1, MAX_FILE + 1, f);
    int err = ferror(f);
    fclose(f);
    if (err) return reject(t, "tuned file %s: unreadable", t->path);
    if (len > MAX_FILE) return reject(t, "tuned file %s: larger than %d bytes", t->path, MAX_FILE);
    text[len] = '\0';
    if (strlen(text) != len) return reject(t, "tuned file %s: not text", t->path);
    kl_mm_tuned_parse(text, kl_mm_cpu_model(), kl_isa_name(kl_cpu_isa()), t);
    if (!t->ok) {
        char why[sizeof t->reason];
        memcpy(why, t->reason, sizeof why);
        return reject(t, "tuned file %s rejected: %.180s", t->path, why);
    }
    return 1;
}

void kl_mm_tuned_load(kl_mm_tuned *t) { load(t); }
