#include "blis_setup.h"

#include <blis.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include <benchmark/benchmark.h>

extern "C" {
#include "massif/blis_arch.h"
}

namespace klb {

// The sub-configuration choice (CPUID -> BLIS_ARCH_TYPE, never skx without AVX-512) lives in
// massif/blis_arch.c, shared with the Massif workload so both pick the same BLIS.
static int choose_arch(std::string *why) {
    char buf[96];
    int arch = kl_blis_choose_arch(buf, sizeof buf);
    *why = buf;
    return arch;
}

void blis_prepare() {
    std::string how;
    const char *user = std::getenv("BLIS_ARCH_TYPE");
    bool forced = false;
    if (user && *user) {
        how = std::string("BLIS_ARCH_TYPE=") + user + " set by the user";
        forced = true;
    } else {
        std::string why;
        int arch = choose_arch(&why);
        if (arch >= 0) {
            setenv("BLIS_ARCH_TYPE", std::to_string(arch).c_str(), 0);
            how = "BLIS_ARCH_TYPE=" + std::to_string(arch) + " set by kl_bench (" + why + ")";
            forced = true;
        } else {
            how = "auto-detected by BLIS (" + why + ")";
        }
    }
    bli_init();  // bli_arch_query_id() before init aborts
    benchmark::AddCustomContext("blis_version", bli_info_get_version_str());
    benchmark::AddCustomContext("blis_arch", bli_arch_string(bli_arch_query_id()));
    benchmark::AddCustomContext("blis_arch_forced", forced ? "true" : "false");
    benchmark::AddCustomContext("blis_arch_how", how);
    benchmark::AddCustomContext("blis_openmp", bli_info_get_enable_openmp() ? "true" : "false");
}

void blis_set_threads(int threads) { bli_thread_set_num_threads(threads); }

}  // namespace klb
