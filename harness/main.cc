// kl_bench: ceilings, then every op of the op table (every available registry variant against
// BLIS, OpenBLAS where it is a peer, and the op's roofs), all in one process. Own flags (parsed
// before Google Benchmark's):
//   --kl_set=quick|default   size set (default: default)
// Unless given, adds --benchmark_repetitions and --benchmark_min_time for the set, and
// --benchmark_report_aggregates_only=true (the report uses medians).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "blis_setup.h"
#include "build_info.h"
#include "common.h"
#include "kl_git.h"
#include "openblas_setup.h"

namespace {

bool has_flag(const std::vector<char *> &args, const char *prefix) {
    for (char *a : args)
        if (std::strncmp(a, prefix, std::strlen(prefix)) == 0) return true;
    return false;
}

void add_context() {
    using benchmark::AddCustomContext;
    AddCustomContext("kl_version", kl_version());
    AddCustomContext("kl_git_commit", KL_GIT_COMMIT);
    AddCustomContext("kl_cpu_isa", kl_isa_name(kl_cpu_isa()));
    for (int l = 1; l <= 3; l++) {
        std::string k = "kl_cache_L" + std::to_string(l);
        AddCustomContext(k + "_bytes", std::to_string(klb::cache_bytes(l)));
        AddCustomContext(k + "_source", klb::cache_source(l));
    }
    // The matmul blocking the fastest rung runs, and where it came from (model, tuned file,
    // environment), so a report says which one it measured.
    std::ptrdiff_t mb[5] = {0, 0, 0, 0, 0};
    kl_matmul_blocking(mb, 5);
    AddCustomContext("kl_matmul_blocking", std::to_string(mb[0]) + "x" + std::to_string(mb[1]) +
                                               " mc=" + std::to_string(mb[2]) + " kc=" +
                                               std::to_string(mb[3]) + " nc=" + std::to_string(mb[4]));
    AddCustomContext("kl_matmul_blocking_source", kl_matmul_blocking_source());
    AddCustomContext("kl_matmul_blocking_detail", kl_matmul_blocking_detail());
    AddCustomContext("kl_matmul_direct_bytes", std::to_string(kl_matmul_direct_bytes()));
    AddCustomContext("kl_matmul_direct_source", kl_matmul_direct_source());
    AddCustomContext("kl_nproc", std::to_string(klb::nproc()));
    AddCustomContext("kl_c_compiler", KL_C_COMPILER);
    AddCustomContext("kl_cpp_compiler", KL_CPP_COMPILER);
    AddCustomContext("kl_buildtype", KL_BUILDTYPE);
    AddCustomContext("kl_build_flags", KL_BUILD_FLAGS);
    AddCustomContext("kl_size_set", klb::size_set() == klb::SizeSet::quick ? "quick" : "default");
    // Environment that changes threading or dispatch (libgomp's wait policy matters a lot on
    // a loaded machine: spinning waiters can starve the thread doing the work).
    for (const char *var : {"OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "OMP_PROC_BIND",
                            "OMP_PLACES", "BLIS_NUM_THREADS", "OPENBLAS_NUM_THREADS", "KL_ISA",
                            "KL_MATMUL_MC", "KL_MATMUL_KC", "KL_MATMUL_NC", "KL_MATMUL_SHAPE",
                            "KL_MATMUL_TUNED"}) {
        const char *v = std::getenv(var);
        AddCustomContext(std::string("env/") + var, v ? v : "");
    }
    // The registry, so the report knows each variant's rung and the ISA it runs (and needs).
    for (std::size_t i = 0; i < kl_variant_count(); i++) {
        const kl_variant *v = kl_variant_at(i);
        AddCustomContext(std::string("kl_variant/") + kl_op_name(v->op) + "/" + v->name,
                         std::string("rung=") + v->rung + ";isa=" + kl_isa_name(kl_variant_isa(v)) +
                             ";needs=" + kl_isa_name(v->isa) +
                             ";threaded=" + (v->threaded ? "1" : "0") +
                             ";available=" + (kl_variant_available(v) ? "1" : "0") +
                             ";source=" + v->source);
    }
    // The op table, so the report knows each op without re-deriving it: its dims, the figure
    // it is rated in, its BLIS baseline and whether it has a memcpy roof.
    for (int o = 0; o < KL_OP_COUNT; o++) {
        const kl_op_desc *op = kl_op_desc_of((kl_op)o);
        if (!op) continue;
        std::string dims;
        for (int j = 0; j < op->ndims; j++) dims += (j ? "," : "") + std::string(op->dim_names[j]);
        AddCustomContext(std::string("kl_op/") + op->name,
                         "dims=" + dims + ";rate=" + op->rate + ";blis=" + op->blis_name +
                             ";copy=" + (op->copy_roof[0] ? "memcpy" : ""));
    }
    FILE *f = std::fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && std::fgets(line, sizeof line, f)) {
        if (std::strncmp(line, "model name", 10) != 0) continue;
        std::string v = std::strchr(line, ':') ? std::strchr(line, ':') + 1 : "";
        while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
        while (!v.empty() && v.front() == ' ') v.erase(0, 1);
        AddCustomContext("kl_cpu_model", v);
        break;
    }
    if (f) std::fclose(f);
}

}  // namespace

int main(int argc, char **argv) {
    std::vector<char *> args;
    klb::SizeSet set = klb::SizeSet::full;
    for (int i = 0; i < argc; i++) {
        if (i > 0 && std::strncmp(argv[i], "--kl_set=", 9) == 0) {
            std::string v = argv[i] + 9;
            if (v == "quick") set = klb::SizeSet::quick;
            else if (v == "default") set = klb::SizeSet::full;
            else {
                std::fprintf(stderr, "kl_bench: --kl_set must be quick or default, not '%s'\n", v.c_str());
                return 2;
            }
            continue;
        }
        if (i > 0 && (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0))
            std::printf("kl_bench (kernellab %s) own flags:\n"
                        "  --kl_set=quick|default  sizes to run (quick: a few small ones, < 1 min)\n"
                        "Google Benchmark flags follow.\n\n", kl_version());
        args.push_back(argv[i]);
    }
    klb::set_size_set(set);
    bool quick = set == klb::SizeSet::quick;
    // Strings with static storage: GB keeps pointers into argv.
    static std::string reps = quick ? "--benchmark_repetitions=1" : "--benchmark_repetitions=3";
    static std::string mintime = quick ? "--benchmark_min_time=0.01" : "--benchmark_min_time=0.05";
    static std::string aggr = "--benchmark_report_aggregates_only=true";
    if (!has_flag(args, "--benchmark_repetitions")) args.push_back(reps.data());
    if (!has_flag(args, "--benchmark_min_time")) args.push_back(mintime.data());
    if (!has_flag(args, "--benchmark_report_aggregates_only")) args.push_back(aggr.data());
    args.push_back(nullptr);
    int n = (int)args.size() - 1;

    klb::openblas_prepare();  // first: its probe forks, and no thread may exist yet
    klb::blis_prepare();  // before any other BLIS call: may choose the sub-configuration
    add_context();
    klb::register_ceilings();
    klb::register_layernorm_bounds();
    klb::register_openblas_peers();
    klb::register_ops();

    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 2;
    std::size_t ran = benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    if (ran == 0) {  // a bad or unmatched --benchmark_filter: no results is a failure
        std::fprintf(stderr, "kl_bench: no benchmark ran (check --benchmark_filter)\n");
        return 1;
    }
    return 0;
}
