#include "openblas_setup.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <benchmark/benchmark.h>

#include "openblas_core.h"

namespace klb {
namespace {

// BLIS (linked) and OpenBLAS both export the BLAS and CBLAS symbols. OpenBLAS is therefore
// opened RTLD_LOCAL and called only through pointers from dlsym on its own handle, so no
// symbol of one can bind to the other. (OpenBLAS's cblas_sgemm reaches its kernels through its
// internal core table; only its LAPACK part calls exported BLAS names, and kl_bench does not
// use LAPACK.)
constexpr const char *kLibrary = "libopenblas.so.0";

// cblas.h's enums: CblasRowMajor, CblasNoTrans. Debian's libopenblas.so.0 uses 32-bit ints.
constexpr int kRowMajor = 101, kNoTrans = 111;
using sgemm_fn = void (*)(int, int, int, int, int, int, float, const float *, int, const float *,
                          int, float, float *, int);
using set_threads_fn = void (*)(int);
using text_fn = char *(*)();

struct Api {
    void *handle = nullptr;
    sgemm_fn sgemm = nullptr;
    set_threads_fn set_threads = nullptr;
    text_fn corename = nullptr, config = nullptr;
} g_api;

// Loads the library and its four entry points; "" on success, else why not.
std::string load(Api *api) {
    void *h = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        return std::string("cannot load ") + kLibrary + ": " + (e ? e : "unknown error");
    }
    Api a;
    a.handle = h;
    a.sgemm = reinterpret_cast<sgemm_fn>(dlsym(h, "cblas_sgemm"));
    a.set_threads = reinterpret_cast<set_threads_fn>(dlsym(h, "openblas_set_num_threads"));
    a.corename = reinterpret_cast<text_fn>(dlsym(h, "openblas_get_corename"));
    a.config = reinterpret_cast<text_fn>(dlsym(h, "openblas_get_config"));
    if (!a.sgemm || !a.set_threads || !a.corename || !a.config) {
        dlclose(h);
        return std::string(kLibrary) + " lacks cblas_sgemm or an openblas_* query: not OpenBLAS";
    }
    *api = a;
    return "";
}

// The core OpenBLAS picks by itself on this CPU, found in a child process (the choice is made
// once, when the library loads, so the parent must not load it before deciding). "" if the
// probe fails. The child's stderr is discarded: OpenBLAS prints its fallback warning there.
std::string probe_auto_core() {
    int fd[2];
    if (pipe(fd) != 0) return "";
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]), close(fd[1]);
        return "";
    }
    if (pid == 0) {
        close(fd[0]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2);
        unsetenv("OPENBLAS_CORETYPE");
        Api a;
        if (load(&a).empty()) {
            const char *core = a.corename();
            ssize_t ignored = write(fd[1], core, std::strlen(core));
            (void)ignored;
        }
        _exit(0);
    }
    close(fd[1]);
    std::string out;
    char buf[64];
    ssize_t got;
    while ((got = read(fd[0], buf, sizeof buf)) > 0) out.append(buf, (std::size_t)got);
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    return out;
}

}  // namespace

void openblas_prepare() {
    using benchmark::AddCustomContext;
    std::string how;
    bool forced = false;
    const char *user = std::getenv("OPENBLAS_CORETYPE");
    if (user && *user) {
        how = std::string("OPENBLAS_CORETYPE=") + user + " set by the user";
        forced = true;
    } else {
        std::string auto_core = probe_auto_core();
        const char *want = kl_openblas_core_for(auto_core.c_str(), kl_openblas_cpu_class(),
                                                kl_openblas_cpu_is_amd());
        std::string picked = auto_core.empty() ? "nothing (probe failed)" : auto_core;
        if (want) {
            setenv("OPENBLAS_CORETYPE", want, 1);
            how = std::string("OPENBLAS_CORETYPE=") + want + " set by kl_bench (OpenBLAS alone picks " +
                  picked + ", below this CPU's vector ISA)";
            forced = true;
        } else {
            how = "auto-detected by OpenBLAS";
        }
    }
    std::string err = load(&g_api);
    AddCustomContext("openblas_loaded", err.empty() ? "true" : "false");
    if (!err.empty()) {
        AddCustomContext("openblas_error", err);
        return;
    }
    std::string config = g_api.config();
    // "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": the version is the second word
    std::string version = config.rfind("OpenBLAS ", 0) == 0 ? config.substr(9, config.find(' ', 9) - 9) : "";
    AddCustomContext("openblas_version", version);
    AddCustomContext("openblas_core", g_api.corename());
    AddCustomContext("openblas_core_forced", forced ? "true" : "false");
    AddCustomContext("openblas_core_how", how);
    AddCustomContext("openblas_config", config);
}

bool openblas_loaded() { return g_api.handle != nullptr; }

void openblas_set_threads(int threads) { g_api.set_threads(threads); }

void openblas_sgemm(std::ptrdiff_t m, std::ptrdiff_t n, std::ptrdiff_t k, float alpha,
                    const float *A, std::ptrdiff_t lda, const float *B, std::ptrdiff_t ldb,
                    float beta, float *C, std::ptrdiff_t ldc) {
    g_api.sgemm(kRowMajor, kNoTrans, kNoTrans, (int)m, (int)n, (int)k, alpha, A, (int)lda, B,
                (int)ldb, beta, C, (int)ldc);
}

}  // namespace klb
