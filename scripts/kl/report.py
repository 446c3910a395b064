"""report.json from one kl_bench run (Google Benchmark JSON) and, optionally, scripts/profile's
memory.json: machine and its measured ceilings, build, BLIS and OpenBLAS, one result per
benchmark (fraction of its ceiling, speedups over the peers, % of copy), the correctness
summary and the targets (kl.targets). The report must validate against its schema before any
tool writes it."""
import datetime
import json
import pathlib

from kl import schema
from kl.model import flop_op, measured_ceiling, op_table
from kl.targets import TRAFFIC_BOUNDS, add_copy_fractions, add_peer_speedups, evaluate_targets

UNIT_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# The op table (LEGACY_OPS, op_table, ops_of, flop_op) and the ceiling rule live in kl.model.
# OpenBLAS, the second peer, where kl_bench runs it: cblas_sgemm, and for linear_relu cblas_sgemm
# then the same separate bias+ReLU pass as blis_relu. The "best peer" of a result is whichever
# of the two baselines was faster at the same size and threads.
OPENBLAS_BASELINE = {"matmul": "openblas", "linear_relu": "openblas_relu"}
ROOFS = {"memcpy", *TRAFFIC_BOUNDS}


class BadInput(Exception):
    pass


def parse_name(run_name):
    """'matmul/naive/m:17/n:17/k:17/threads:1/real_time' -> ('matmul', 'naive', fields, real)."""
    parts = run_name.split("/")
    if len(parts) < 3:
        raise BadInput(f"benchmark name '{run_name}' is not op/variant/key:value/...")
    fields, real = {}, False
    for p in parts[2:]:
        if p == "real_time":
            real = True
        elif p.startswith("repeats:"):
            continue  # Google Benchmark's mark of a per-benchmark repetition count (ceilings)
        elif ":" in p:
            k, v = p.split(":", 1)
            fields[k] = int(v) if v.lstrip("-").isdigit() else v
        else:
            raise BadInput(f"benchmark name '{run_name}': unexpected part '{p}'")
    if "threads" not in fields:
        raise BadInput(f"benchmark name '{run_name}' has no threads:N")
    return parts[0], parts[1], fields, real


def runs(bench):
    """One entry per run_name: the median aggregate when repeated (for ceilings the "max"
    aggregate: a ceiling is the best the machine showed), else the single run; errors win
    (a benchmark whose check failed has no timing at all)."""
    by_name = {}
    for b in bench.get("benchmarks", []):
        if not isinstance(b, dict) or "run_name" not in b:
            raise BadInput("a 'benchmarks' entry has no run_name: not Google Benchmark JSON")
        by_name.setdefault(b["run_name"], []).append(b)
    out = {}
    for name, entries in by_name.items():
        errs = [e for e in entries if e.get("error_occurred")]
        if errs:
            out[name] = {"error": errs[0].get("error_message", "error")}
            continue
        aggs = {e.get("aggregate_name"): e for e in entries if e.get("run_type") == "aggregate"}
        pick = aggs.get("max") if name.startswith("ceiling/") else None
        med = [pick or aggs["median"]] if pick or "median" in aggs else []
        its = [e for e in entries if e.get("run_type", "iteration") == "iteration"]
        if med:
            out[name] = med[0]
        elif len(its) == 1:
            out[name] = its[0]
        elif its:  # repetitions without aggregates: the median of the repetitions
            mid = sorted(its, key=lambda e: e["real_time"])[len(its) // 2]
            out[name] = mid
        else:
            raise BadInput(f"{name}: no median and no plain run in bench.json")
    return out


def rate(entry, real):
    for key in ("GFLOPS", "GBps"):
        if key in entry:
            t = entry["real_time" if real else "cpu_time"] * UNIT_S[entry.get("time_unit", "ns")]
            return key, float(entry[key]), t
    raise BadInput(f"{entry.get('run_name')}: no GFLOPS or GBps counter")


def registry(ctx):
    reg = {}
    for key, val in ctx.items():
        if key.startswith("kl_variant/"):
            _, op, name = key.split("/", 2)
            reg[(op, name)] = dict(kv.split("=", 1) for kv in val.split(";") if "=" in kv)
    return reg


def build_report(bench, memory):
    if not isinstance(bench, dict) or "context" not in bench or "benchmarks" not in bench:
        raise BadInput("not a Google Benchmark JSON file (needs 'context' and 'benchmarks')")
    ctx = bench["context"]
    missing = [k for k in ("kl_version", "kl_cpu_isa", "blis_arch", "blis_version") if k not in ctx]
    if missing:
        raise BadInput(f"context lacks {', '.join(missing)}: not written by kl_bench")
    reg = registry(ctx)
    ops = op_table(ctx)
    fma, copy, parsed = [], [], []
    for name, e in runs(bench).items():
        op, variant, f, real = parse_name(name)
        if op == "ceiling":
            row = {"threads": f["threads"]}
            if variant == "fma":
                row.update(isa=f["isa"], gflops=None if "error" in e else rate(e, real)[1])
                fma.append(row)
            elif variant in ("copy", "memcpy"):
                row.update(level=f["level"], bytes=f["bytes"], method=variant,
                           gbps=None if "error" in e else rate(e, real)[1])
                copy.append(row)
            else:
                raise BadInput(f"{name}: unknown ceiling '{variant}'")
            if "error" in e:
                row["error"] = e["error"]
            continue
        if op not in ops:
            raise BadInput(f"{name}: unknown op '{op}' (not in the op table of bench.json's context)")
        parsed.append((name, op, variant, f, real, e))

    def ceiling_for(op, f):
        t = f["threads"]
        best = measured_ceiling({"fma": fma, "copy": copy}, flop_op(ops, op), t, f.get("ws"))
        if best is None:
            return None, None
        if flop_op(ops, op):
            return f"fma/{best['isa']}/threads:{t}", best["gflops"]
        return f"{best['method']}/{best['level']}/threads:{t}", best["gbps"]

    results = []
    for name, op, variant, f, real, e in parsed:
        info = reg.get((op, variant))
        kind = ("kernel" if info else "roof" if variant in ROOFS else "blis" if variant == ops[op]["blis"]
                else "openblas" if variant == OPENBLAS_BASELINE.get(op) else None)
        if kind is None:
            raise BadInput(f"{name}: '{variant}' is neither in the registry (bench.json context) nor a baseline")
        metric = "GFLOP/s" if flop_op(ops, op) else "GB/s"
        r = {"name": name, "op": op, "variant": variant, "kind": kind,
             "rung": info.get("rung") if info else None, "isa": info.get("isa") if info else None,
             "size": {k: f[k] for k in ops[op]["dims"] + ["ws"] if k in f}, "threads": f["threads"],
             "time_s": None, "time_basis": "real" if real else "cpu", "metric": metric,
             "value": None, "ceiling": None, "fraction_of_ceiling": None,
             "blis_baseline": None, "speedup_vs_blis": None,
             "openblas_baseline": None, "speedup_vs_openblas": None,
             "best_peer": None, "speedup_vs_best_peer": None,
             "copy_baseline": None, "fraction_of_copy": None, "error": None}
        if "error" in e:
            r["error"] = e["error"]
        else:
            _, r["value"], r["time_s"] = rate(e, real)
            for key in ("flops", "bytes"):  # per call, from the op table (kl_bench counters)
                if key in e:
                    r[key] = float(e[key])
            r["ceiling"], peak = ceiling_for(op, f)
            r["fraction_of_ceiling"] = r["value"] / peak if peak else None
        results.append(r)
    add_peer_speedups(results)
    add_copy_fractions(results, ops)

    failures = [{"name": r["name"], "error": r["error"]} for r in results if r["error"]]
    failures += [{"name": f"ceiling/{'fma' if 'isa' in c else 'copy'}", "error": c["error"]}
                 for c in fma + copy if "error" in c]
    size_set = ctx.get("kl_size_set", "unknown")
    report = {
        "schema_version": 1,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "run": {"date": ctx.get("date", ""), "host": ctx.get("host_name", ""),
                "size_set": size_set if size_set in ("quick", "default") else "unknown",
                "load_avg": [float(x) for x in ctx.get("load_avg", [])],
                "environment": {k[4:]: v for k, v in ctx.items() if k.startswith("env/") and v},
                "benchmark_library_build_type": ctx.get("library_build_type")},
        "machine": {
            "cpu_model": ctx.get("kl_cpu_model", "unknown"),
            "cores": int(ctx.get("kl_nproc", ctx.get("num_cpus", 1))),
            "isa": ctx["kl_cpu_isa"],
            "mhz": ctx.get("mhz_per_cpu"),
            "caches": {f"L{l}": {"bytes": int(ctx.get(f"kl_cache_L{l}_bytes", 0)) or 1,
                                 "source": ctx.get(f"kl_cache_L{l}_source", "sysconf")} for l in (1, 2, 3)},
            "ceilings": {"fma": fma, "copy": copy},
        },
        "build": {"c_compiler": ctx.get("kl_c_compiler", "unknown"),
                  "cpp_compiler": ctx.get("kl_cpp_compiler", "unknown"),
                  "flags": ctx.get("kl_build_flags", ""), "buildtype": ctx.get("kl_buildtype", "unknown"),
                  "git_commit": ctx.get("kl_git_commit", "unknown"), "kl_version": ctx["kl_version"]},
        "blis": {"version": ctx["blis_version"], "sub_configuration": ctx["blis_arch"],
                 "forced": ctx.get("blis_arch_forced") == "true", "how": ctx.get("blis_arch_how", ""),
                 "openmp": ctx.get("blis_openmp") == "true"},
        "ops": ops,
        "openblas": openblas_facts(ctx),
        "results": results,
        "correctness": {"all_passed": not failures, "checked": len(results), "failed": len(failures),
                        "failures": failures},
        "memory": memory,
    }
    if "kl_matmul_blocking" in ctx:  # kl_bench since the blocking model; older runs lack it
        report["machine"]["matmul_blocking"] = {
            "blocks": ctx["kl_matmul_blocking"],
            "source": ctx.get("kl_matmul_blocking_source", "model"),
            "detail": ctx.get("kl_matmul_blocking_detail", "")}
        if "kl_matmul_direct_bytes" in ctx:  # optional in the schema: older kl_bench output lacks it
            report["machine"]["matmul_blocking"].update(
                direct_bytes=int(ctx["kl_matmul_direct_bytes"]),
                direct_source=ctx.get("kl_matmul_direct_source", "model"))
    report["targets"] = evaluate_targets(report)
    return report


def openblas_facts(ctx):
    """The OpenBLAS that ran (or why none did); None for a bench.json from before it was a peer."""
    if "openblas_loaded" not in ctx:
        return None
    if ctx["openblas_loaded"] != "true":
        return {"loaded": False, "error": ctx.get("openblas_error", "not loaded")}
    return {"loaded": True, "version": ctx.get("openblas_version", ""), "core": ctx.get("openblas_core", ""),
            "forced": ctx.get("openblas_core_forced") == "true", "how": ctx.get("openblas_core_how", ""),
            "config": ctx.get("openblas_config", "")}


def load_json(path, what):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except OSError as e:
        raise BadInput(f"{what} {path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise BadInput(f"{what} {path}: not JSON: {e}")


def checked_report(bench_path, memory_path=None):
    """The report of the bench.json at bench_path (with the memory.json at memory_path), checked
    against its schema; BadInput when an input is unreadable or wrong."""
    bench = load_json(bench_path, "bench")
    memory = load_json(memory_path, "memory") if memory_path else None
    if memory is not None and not isinstance(memory, dict):
        raise BadInput(f"memory {memory_path}: must be a JSON object")
    report = build_report(bench, memory)
    found = schema.problems(report)
    if found:
        raise BadInput("the report breaks its own schema (a report.py bug):\n  " + "\n  ".join(found))
    return report
