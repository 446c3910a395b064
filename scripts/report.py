#!/usr/bin/python3
"""Turn one kl_bench run (Google Benchmark JSON) into report.json and report.md.

report.json follows reports/schema/report.v1.schema.json (documented in reports/README.md):
machine and its measured ceilings, build, BLIS sub-configuration and OpenBLAS core, one result
per benchmark with its fraction of the relevant ceiling and its speedups over BLIS, over
OpenBLAS and over the faster of the two from the same run, the correctness summary, and
scripts/profile's memory.json when given. Both files are written
only after the report validates; nothing is written on bad input.
"""
import argparse
import datetime
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from kl import schema  # noqa: E402
from kl.io import write_atomic  # noqa: E402
from kl.model import (CEILING_TOLERANCE, LEGACY_OPS, flop_op, measured_ceiling,  # noqa: E402,F401
                      op_table, ops_of)

UNIT_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# The op table (LEGACY_OPS, op_table, ops_of, flop_op) and the ceiling rule live in kl.model.
# OpenBLAS, the second peer, where kl_bench runs it: cblas_sgemm, and for linear_relu cblas_sgemm
# then the same separate bias+ReLU pass as blis_relu. The "best peer" of a result is whichever
# of the two baselines was faster at the same size and threads.
OPENBLAS_BASELINE = {"matmul": "openblas", "linear_relu": "openblas_relu"}
# LayerNorm's loads and stores without its arithmetic, with ordinary stores
# (harness/bench_layernorm.cc): a kernel making the same passes and keeping y in cache cannot
# be faster, so where they sit below a copy target, only a different pass structure (or
# streaming y, which the rungs do from 8 x L2 on one thread, past L3 for a team) can meet it.
TRAFFIC_BOUNDS = ("traffic_1pass", "traffic_2pass")
ROOFS = {"memcpy", *TRAFFIC_BOUNDS}

# The course performance targets: report.json "targets", the Targets section of report.md and
# report.html. Each is checked on the BEST kernel variant at every (size, threads) case it covers.
#   measure  "peak": GFLOP/s / this run's FMA peak (best ISA) at the same thread count;
#            "blis": BLIS time / kernel time; "copy": memcpy time / kernel time (same bytes);
#            "peer": time of the faster of BLIS and OpenBLAS / kernel time (both must be in the run);
#   at       sizes that must be in the run ({size key: values}); a missing one is "not measured";
#   within   (size key, lo, hi): every size of the run in lo..hi (None: open), at least one;
#   "n" is the square matmul size (m = n = k); "ws_bytes" the bytes of x and y (ReLU: 8 n,
#   LayerNorm: 8 rows cols).
TARGETS = (
    {"id": "matmul-peak-1t", "op": "matmul", "measure": "peak", "min": 0.90, "threads": (1,), "at": {"n": (1024, 2048)}},
    {"id": "matmul-peak-2t", "op": "matmul", "measure": "peak", "min": 0.85, "threads": (2,), "at": {"n": (1024, 2048)}},
    {"id": "matmul-blis-large", "op": "matmul", "measure": "blis", "min": 1.1, "threads": (1, 2), "within": ("n", 256, None)},
    {"id": "matmul-blis-small", "op": "matmul", "measure": "blis", "min": 1.5, "threads": (1, 2), "within": ("n", None, 96)},
    {"id": "matmul-blis-floor", "op": "matmul", "measure": "blis", "min": 0.9, "threads": (1, 2), "within": ("n", None, None)},
    {"id": "relu-copy", "op": "relu", "measure": "copy", "min": 0.95, "threads": (1, 2), "at": {"ws": ("L2", "L3", "DRAM")}},
    {"id": "layernorm-copy", "op": "layernorm", "measure": "copy", "min": 0.85, "threads": (1, 2), "within": ("cols", 768, 4096)},
    {"id": "layernorm-blis", "op": "layernorm", "measure": "blis", "min": 2.0, "threads": (1, 2), "within": ("cols", 768, 4096)},
    {"id": "matmul-peer-large", "op": "matmul", "measure": "peer", "min": 0.97, "threads": (1,), "within": ("n", 256, None)},
    {"id": "matmul-peer-small", "op": "matmul", "measure": "peer", "min": 0.9, "threads": (1,), "within": ("n", None, 128)},
    {"id": "matmul-peer-2t", "op": "matmul", "measure": "peer", "min": 0.95, "threads": (2,), "within": ("n", 512, None)},
    {"id": "relu-copy-1mib", "op": "relu", "measure": "copy", "min": 0.90, "threads": (1, 2), "within": ("ws_bytes", 1 << 20, None)},
    {"id": "layernorm-copy-1mib", "op": "layernorm", "measure": "copy", "min": 0.90, "threads": (1, 2), "within": ("ws_bytes", 1 << 20, None)},
)

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


# ---- Copy baseline and targets --------------------------------------------------------------
# Both work on report.json's own results (times), so they also apply to reports written before
# these fields existed (scripts/report_html.py and reports/tests use them that way).

def size_id(size):
    return tuple(sorted(size.items()))


def add_peer_speedups(results):
    """Set blis_baseline / speedup_vs_blis, openblas_baseline / speedup_vs_openblas (the peer's
    time / this time: same work, same size, same threads, same clock), and best_peer /
    speedup_vs_best_peer against the faster of the two there; null where a peer is absent."""
    peers = {}
    for r in results:
        if r["kind"] in ("blis", "openblas") and not r["error"] and r["time_s"]:
            peers[(r["kind"], r["op"], size_id(r["size"]), r["threads"])] = r
    for r in results:
        for kind in ("blis", "openblas"):
            r[f"{kind}_baseline"], r[f"speedup_vs_{kind}"] = None, None
        r["best_peer"], r["speedup_vs_best_peer"] = None, None
        if r["error"] or not r["time_s"]:
            continue
        best = None
        for kind in ("blis", "openblas"):
            p = peers.get((kind, r["op"], size_id(r["size"]), r["threads"]))
            if p and p["time_basis"] == r["time_basis"]:
                r[f"{kind}_baseline"] = f"{r['op']}/{p['variant']}"
                r[f"speedup_vs_{kind}"] = p["time_s"] / r["time_s"]
                if best is None or p["time_s"] < best["time_s"]:
                    best = p
        if best:
            r["best_peer"] = f"{r['op']}/{best['variant']}"
            r["speedup_vs_best_peer"] = best["time_s"] / r["time_s"]
    return results


def add_copy_fractions(results, ops=None):
    """Set copy_baseline and fraction_of_copy (memcpy time / this time) on every relu and
    layernorm result that has a same-run memcpy of the same size at the same threads; null
    elsewhere. Unlike fraction_of_ceiling, both times come from the same benchmark run at the
    same size, so a noisy copy ceiling does not move it."""
    memcpy = {(r["op"], size_id(r["size"]), r["threads"]): r for r in results
              if r["kind"] == "roof" and r["variant"] == "memcpy" and not r["error"] and r["time_s"]}
    for r in results:
        r["copy_baseline"], r["fraction_of_copy"] = None, None
        m = memcpy.get((r["op"], size_id(r["size"]), r["threads"]))
        # both on one clock (older runs timed some kernels in CPU time): otherwise no ratio
        if (ops or LEGACY_OPS).get(r["op"], {}).get("copy") and m and not r["error"] and r["time_s"] and r["time_basis"] == m["time_basis"]:
            r["copy_baseline"] = f"{r['op']}/memcpy"
            r["fraction_of_copy"] = m["time_s"] / r["time_s"]
    return results


def target_size_value(op, size, key):
    """The value a target selects sizes by: for matmul "n" only square sizes count."""
    if op == "matmul" and key == "n" and not size.get("m") == size.get("n") == size.get("k"):
        return None
    if key == "ws_bytes":
        return ws_bytes(op, size)
    return size.get(key)


def ws_bytes(op, size):
    """Bytes of x and y of a ReLU or LayerNorm call (None for other ops)."""
    if op == "relu" and "n" in size:
        return 8 * size["n"]
    if op == "layernorm" and "rows" in size:
        return 8 * size["rows"] * size["cols"]
    return None


def bytes_str(b):
    return f"{b >> 20} MiB" if b % (1 << 20) == 0 else f"{b >> 10} KiB" if b % 1024 == 0 else f"{b} bytes"


def target_text(t):
    """(what, sizes) in words, from a TARGETS row."""
    peak = (f"{t['threads'][0]}-thread FMA peak" if len(t["threads"]) == 1 else "FMA peak at the same threads")
    what = {"peak": f"best variant >= {t['min']:.0%} of the same-run {peak} (best ISA)",
            "blis": f"best variant >= {t['min']:g}x {t['op']}/{LEGACY_OPS[t['op']]['blis']}",
            "copy": f"best variant >= {t['min']:.0%} of copy (same-run memcpy of the same bytes)",
            "peer": f"best variant >= {t['min']:g}x the faster of BLIS and OpenBLAS"}[t["measure"]]
    if "at" in t:
        (key, values), = t["at"].items()
        sizes = f"{key} = " + ", ".join(str(v) for v in values)
    else:
        key, lo, hi = t["within"]
        if key == "ws_bytes":
            key, lo, hi = "working set", lo and bytes_str(lo), hi and bytes_str(hi)
        sizes = ("every size" if lo is None and hi is None else f"every {key} >= {lo}" if hi is None
                 else f"every {key} <= {hi}" if lo is None else f"every size with {lo} <= {key} <= {hi}")
    return what, sizes


REFERENCE_WORDS = {"peak": "FMA peak", "blis": "blis baseline", "copy": "copy baseline",
                   "peer": "BLIS and OpenBLAS pair"}


def evaluate_targets(report):
    """One entry per TARGETS row: each (size, threads) case it covers with the best kernel
    variant's figure, the worst measured case, and a status: "miss" when any measured case
    misses, else "not measured" when a case (or every case) was not in the run, else "pass"."""
    results = report["results"]
    peaks = {}
    for c in report["machine"]["ceilings"]["fma"]:
        if c.get("gflops") and c["gflops"] > peaks.get(c["threads"], (None, 0))[1]:
            peaks[c["threads"]] = (f"fma/{c['isa']}/threads:{c['threads']}", c["gflops"])
    by_case = {}
    for r in results:
        by_case.setdefault((r["op"], size_id(r["size"]), r["threads"]), []).append(r)

    def reference(t, rs, threads):
        """(name, value, clock): the FMA peak in GFLOP/s, or the baseline's time and basis."""
        if t["measure"] == "peak":
            return peaks.get(threads, (None, None)) + (None,)
        if t["measure"] == "peer":  # both peers, or no reference: one alone is not "the better"
            both = [[r for r in rs if r["kind"] == kind and not r["error"] and r["time_s"]]
                    for kind in ("blis", "openblas")]
            if not all(both):
                return None, None, None
            best = min((p[0] for p in both), key=lambda r: r["time_s"])
            return f"{t['op']}/{best['variant']}", best["time_s"], best["time_basis"]
        variant = ops_of(report)[t["op"]]["blis"] if t["measure"] == "blis" else "memcpy"
        base = [r for r in rs if r["variant"] == variant and not r["error"] and r["time_s"]]
        return (f"{t['op']}/{variant}", base[0]["time_s"], base[0]["time_basis"]) if base else (None, None, None)

    def case(t, size, threads, in_run=True):
        c = {"size": size, "threads": threads, "variant": None, "value": None, "reference": None,
             "status": "not measured", "note": None}
        rs = by_case.get((t["op"], size_id(size), threads), []) if in_run else []
        kernels = [r for r in rs if r["kind"] == "kernel"]
        c["reference"], ref, clock = reference(t, rs, threads) if rs else (None, None, None)
        if not kernels or ref is None:
            c["note"] = ("not in this run" if not rs else "no kernel result" if not kernels
                         else f"no {REFERENCE_WORDS[t['measure']]} in this run")
            return c
        ok = [r for r in kernels if not r["error"] and r["time_s"]]
        if not ok:
            c.update(status="miss", note="no kernel variant passed its check")
            return c
        ok = [r for r in ok if clock is None or r["time_basis"] == clock]  # a time ratio needs one clock
        if not ok:
            c["note"] = f"kernels not timed in {clock} time like the baseline (an older run)"
            return c
        best = max(ok, key=lambda r: r["value"])
        c["variant"] = best["variant"]
        c["value"] = best["value"] / ref if t["measure"] == "peak" else ref / best["time_s"]
        c["status"] = "pass" if c["value"] >= t["min"] else "miss"
        if t["measure"] == "copy":  # what the bytes alone allow here, when the run has them
            bounds = [f"{r['variant']} " + ("failed" if r["error"] else percent(r["fraction_of_copy"]))
                      for v in TRAFFIC_BOUNDS for r in rs if r["variant"] == v
                      and (r["error"] or r.get("fraction_of_copy") is not None)]
            c["note"] = f"without arithmetic, ordinary stores: {', '.join(bounds)}" if bounds else None
        return c

    out = []
    for t in TARGETS:
        sizes = []  # the run's sizes of this op, in the order the harness ran them
        for r in results:
            if r["op"] == t["op"] and r["size"] not in sizes:
                sizes.append(r["size"])
        cases = []
        if "at" in t:
            (key, values), = t["at"].items()
            for v in values:
                found = [s for s in sizes if target_size_value(t["op"], s, key) == v]
                cases += ([case(t, s, n) for s in found for n in t["threads"]] if found
                          else [case(t, {key: v}, n, in_run=False) for n in t["threads"]])
        else:
            key, lo, hi = t["within"]
            for s in sizes:
                v = target_size_value(t["op"], s, key)
                if v is not None and (lo is None or v >= lo) and (hi is None or v <= hi):
                    cases += [case(t, s, n) for n in t["threads"]]
        measured = [c for c in cases if c["status"] != "not measured"]
        worst = min(measured, key=lambda c: -1.0 if c["value"] is None else c["value"], default=None)
        status = ("miss" if any(c["status"] == "miss" for c in cases)
                  else "not measured" if not measured or len(measured) < len(cases) else "pass")
        what, size_words = target_text(t)
        out.append({"id": t["id"], "op": t["op"], "target": what, "sizes": size_words,
                    "threads": list(t["threads"]), "measure": t["measure"], "min": t["min"],
                    "status": status, "cases": cases, "measured": len(measured),
                    "passed": sum(1 for c in cases if c["status"] == "pass"), "worst": worst})
    return out


# ---- Markdown -------------------------------------------------------------------------------

def fmt(x, spec):
    return "—" if x is None else format(x, spec)


def size_str(s):
    if "m" in s:
        return f"{s['m']}x{s['n']}x{s['k']}" if len({s['m'], s['n'], s['k']}) > 1 else str(s["m"])
    if "rows" in s:
        return f"{s['rows']}x{s['cols']} ({s.get('ws', '?')})"
    return f"{s.get('n')} ({s.get('ws', '?')})"


def above_ceiling(report):
    """Results faster than their ceiling beyond kl.model's tolerance: only a noisy run measures
    a ceiling low."""
    return [r for r in report["results"] if (r["fraction_of_ceiling"] or 0) > 1 + CEILING_TOLERANCE]


def noise_note(report):
    over = above_ceiling(report)
    if not over:
        return None
    load = report["run"]["load_avg"][0] if report["run"]["load_avg"] else "unknown"
    return (f"{len(over)} results exceed their measured ceiling, so the machine was not quiet "
            f"(load average at start: {load}): rerun on an idle machine before comparing. For ReLU "
            f"and LayerNorm, % of copy (against memcpy of the same bytes, timed beside the kernel) "
            f"is the steadier figure.")


def summary_rows(report):
    rows = []
    for r in report["results"]:
        rate_s = f"ERROR: {r['error']}" if r["error"] else f"{r['value']:.2f} {r['metric']}"
        pct = fmt(None if r["fraction_of_ceiling"] is None else 100 * r["fraction_of_ceiling"], ".1f")
        rows.append([r["op"], r["variant"], size_str(r["size"]), str(r["threads"]), rate_s,
                     pct + ("%" if pct != "—" else ""), times_str(r["speedup_vs_blis"]),
                     times_str(r.get("speedup_vs_openblas")), times_str(r.get("speedup_vs_best_peer")),
                     percent(r.get("fraction_of_copy"))])
    return rows


def times_str(x):
    return "—" if x is None else f"{x:.2f}x"


def percent(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def target_value_str(measure, value):
    """A target's figure as the target states it: % of peak or copy, or x BLIS."""
    if value is None:
        return "—"
    return f"{value:.2f}x" if measure in ("blis", "peer") else percent(value)


def target_case_str(measure, c, with_value=True):
    """'1024, 1 thread: avx2 84.0%' (a size not in the run has only its selecting key)."""
    s = c["size"]
    square = "m" in s and s["m"] == s.get("n") == s.get("k")
    size = (f"n = {s['n']}" if square else size_str(s) if len(s) > 1
            else " ".join(f"{k} = {v}" for k, v in s.items()))  # a size not in the run: its key only
    where = f"{size}, {c['threads']} thread{'s' if c['threads'] > 1 else ''}"
    if not with_value:
        return where
    if c["value"] is None:
        return f"{where}: {c['note']}"
    note = f" ({c['note']})" if c["note"] else ""
    return f"{where}: {c['variant']} {target_value_str(measure, c['value'])}{note}"


TARGET_STATUS_MD = {"pass": "pass", "miss": "**MISS**", "not measured": "not measured"}


def targets_markdown(targets):
    if not targets:
        return []
    rows = []
    for t in targets:
        missing = [c for c in t["cases"] if c["status"] == "not measured"]
        gone = "; ".join(target_case_str(t["measure"], c, with_value=False) for c in missing[:4])
        gone += f"; and {len(missing) - 4} more" if len(missing) > 4 else ""
        gone = gone if t["cases"] else "no size in this range in the run"
        rows.append([f"{t['op']}: {t['target']}", t["sizes"],
                     " and ".join(str(n) for n in t["threads"]),
                     f"{t['passed']} of {t['measured']}" + (f" (+{len(missing)} not measured)" if missing else ""),
                     target_case_str(t["measure"], t["worst"]) if t["worst"] else "—",
                     gone or "—", TARGET_STATUS_MD[t["status"]]])
    counts = {s: sum(1 for t in targets if t["status"] == s) for s in TARGET_STATUS_MD}
    return ["", "## Targets", "",
            "The course performance targets (`TARGETS` in scripts/report.py) on this run's numbers. Each "
            "case is one size and thread count; its figure is the best kernel variant there against the "
            "same-run FMA peak, BLIS, the faster of BLIS and OpenBLAS, or memcpy of the same bytes. **MISS**: some measured case falls "
            "short (the worst one is shown); *not measured*: a size or thread count the target needs was "
            "not in this run, so it cannot pass.", "",
            f"{counts['pass']} pass, {counts['miss']} missed, {counts['not measured']} not measured.", "",
            table(["target", "sizes", "threads", "cases met", "worst case", "not measured", "status"], rows)]


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def openblas_line(ob):
    """The report.md line on the OpenBLAS peer."""
    if ob is None:
        return "- OpenBLAS: not in this run (kl_bench predates it as a peer)"
    if not ob["loaded"]:
        return f"- OpenBLAS: not loaded ({ob['error']}): no × OpenBLAS figures"
    return (f"- OpenBLAS {ob['version']}, core `{ob['core']}` ({'forced' if ob['forced'] else 'auto'}: "
            f"{ob['how']}); {ob['config']}")


def blocking_lines(mb):
    """The matmul blocking line of the Machine section ([] for runs that did not record it)."""
    if not mb:
        return []
    detail = f" ({mb['detail']})" if mb["detail"] else ""
    return [f"- Matmul blocking: `{mb['blocks']}` from the {mb['source']}{detail}"]


def markdown(report):
    m, b, bl, run = report["machine"], report["build"], report["blis"], report["run"]
    out = [f"# kernellab benchmark report — {run['host']} {run['date']}", ""]
    ok = report["correctness"]
    status = "every check passed" if ok["all_passed"] else f"{ok['failed']} of {ok['checked']} FAILED"
    out.append(f"**Correctness:** {status} ({ok['checked']} results, size set `{run['size_set']}`).")
    if noise_note(report):
        out += ["", f"**Warning:** {noise_note(report)}"]
    out += targets_markdown(report.get("targets") or [])
    out += ["", "## Machine", "",
            f"- CPU: {m['cpu_model']}, {m['cores']} cores, ISA `{m['isa']}`, {m['mhz']} MHz",
            "- Caches: " + ", ".join(f"{k} {v['bytes'] // 1024} KiB ({v['source']})" for k, v in m["caches"].items()),
            *blocking_lines(m.get("matmul_blocking")),
            f"- Load average at start: {run['load_avg']} (multi-threaded figures need a quiet machine)",
            f"- Environment: {', '.join(f'{k}={v}' for k, v in run['environment'].items()) or 'no OMP_*/BLIS_*/KL_ISA set'}",
            f"- Build: {b['c_compiler']}, `{b['buildtype']}`, {b['flags']}; git `{b['git_commit']}`, kernellab {b['kl_version']}",
            f"- BLIS {bl['version']}, sub-configuration `{bl['sub_configuration']}` "
            f"({'forced' if bl['forced'] else 'auto'}: {bl['how']})",
            openblas_line(report.get("openblas")),
            f"- Google Benchmark library build type: {run['benchmark_library_build_type']}", "",
            "## Ceilings (measured in this run)", "",
            table(["ceiling", "threads", "rate"],
                  [[f"FMA peak, {c['isa']}", str(c["threads"]), f"{fmt(c['gflops'], '.1f')} GFLOP/s"] for c in m["ceilings"]["fma"]]
                  + [[f"{c['method']}, {c['level']} ({c['bytes'] // 1024} KiB)", str(c["threads"]), f"{fmt(c['gbps'], '.1f')} GB/s"]
                     for c in m["ceilings"]["copy"]])]
    notes = {
        "matmul": "C = A·B (alpha 1, beta 0), square n. GFLOP/s = 2n³/time; % of the best-ISA FMA peak at "
                  "the same threads; × BLIS = bli_sgemm time / this time; × OpenBLAS = cblas_sgemm time / this "
                  "time; × best = the faster of the two / this time. The naive rung is not run above "
                  "n = 512 (minutes per size). Above 2^27 multiply-adds the pre-timing check covers the first "
                  "and last 16 rows and every 8th row, all columns.",
        "relu": "y = max(x, 0), out of place. GB/s counts 8n bytes (read x, write y); % of the faster copy "
                "ceiling (vector loop or memcpy) at the working set's level and threads; × BLIS = bli_scopyv time (same bytes) / this time; "
                "`memcpy` is the bandwidth roof; % of copy = its time (same bytes, same threads, same run) / this time.",
        "layernorm": "GB/s counts 4(2·rows·cols + 2·cols + 2·rows) bytes; baseline `blis_l1` is BLIS level-1 "
                     "per row (sdotv with ones, copyv, axpyv, sdotv, scalv; gamma/beta by a plain loop); "
                     "`memcpy` copies x to y (the roof); % of copy = its time (same size and threads, same run) / "
                     "this time (memcpy moves 8·rows·cols bytes: the small vectors are not in it). "
                     "`traffic_1pass` (y = x·gamma + beta) and `traffic_2pass` (sum x, then the same) are "
                     "LayerNorm's loads and stores without its arithmetic, with ordinary stores: a kernel "
                     "making the same passes and keeping y in cache does not beat them (the rungs stream y "
                     "from 8 x L2 on one thread and past L3 for a team, and can).",
        "linear_relu": "C = relu(A·B + bias) (m, n, k as given). GFLOP/s = 2mnk/time (the epilogue is not "
                       "counted); % of the best-ISA FMA peak; `unfused` is the best matmul then a separate "
                       "bias+ReLU pass over C, `fused` applies it to each tile as it is written; "
                       "× BLIS = time of `blis_relu` (bli_sgemm, then the same separate pass) / this time; "
                       "× OpenBLAS likewise with `openblas_relu` (cblas_sgemm, then the same pass); × best = "
                       "the faster of the two / this time.",
    }
    ops = ops_of(report)
    for op in ops:
        rs = [r for r in report["results"] if r["op"] == op]
        if not rs:
            continue
        copy_op = ops[op]["copy"]
        header = ["variant", "rung", "isa", "size", "threads", "time", "rate", "% of ceiling", "× BLIS"]
        peers = op in OPENBLAS_BASELINE
        header += ["× OpenBLAS", "× best"] if peers else []
        header += ["% of copy"] if copy_op else []
        rows = []
        for r in rs:
            rows.append([r["variant"], r["rung"] or r["kind"], r["isa"] or "—", size_str(r["size"]),
                         str(r["threads"]),
                         "—" if r["time_s"] is None else f"{r['time_s'] * 1e6:.1f} µs",
                         f"**error:** {r['error']}" if r["error"] else f"{r['value']:.2f} {r['metric']}",
                         fmt(None if r["fraction_of_ceiling"] is None else 100 * r["fraction_of_ceiling"], ".1f"),
                         fmt(r["speedup_vs_blis"], ".2f")]
                        + ([fmt(r.get("speedup_vs_openblas"), ".2f"), fmt(r.get("speedup_vs_best_peer"), ".2f")]
                           if peers else [])
                        + ([percent(r.get("fraction_of_copy"))] if copy_op else []))
        work = "flops" if flop_op(ops, op) else "bytes"
        note = notes.get(op, f"{op} ({', '.join(ops[op]['dims'])} as given): {rs[0]['metric']} = the {work} "
                             f"one call must move or do (kl_bench's op table) / time; "
                             f"× BLIS = time of `{ops[op]['blis']}` / this time.")
        out += ["", f"## {op}", "", note, "", table(header, rows)]
    if report["memory"] is not None:
        out += ["", "## Memory", "", "From scripts/profile (memory.json), as written by it:", "", "```json",
                json.dumps(report["memory"], indent=2)[:20000], "```"]
    return "\n".join(out) + "\n"


# ---- CLI ------------------------------------------------------------------------------------

def load_json(path, what):
    try:
        return json.loads(pathlib.Path(path).read_text())
    except OSError as e:
        raise BadInput(f"{what} {path}: cannot read: {e.strerror}")
    except json.JSONDecodeError as e:
        raise BadInput(f"{what} {path}: not JSON: {e}")


def print_summary(report):
    header = ["op", "variant", "size", "threads", "rate", "% of ceiling", "x BLIS", "x OpenBLAS", "x best",
              "% of copy"]
    rows = [header] + summary_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    targets = report.get("targets") or []
    if targets:
        print("\nTargets:")
        for t in targets:
            worst = f"  worst: {target_case_str(t['measure'], t['worst'])}" if t["worst"] else ""
            print(f"  {t['status'].upper():12s} {t['op']}: {t['target']}, {t['sizes']}{worst}")
    if noise_note(report):
        print(f"\nWARNING: {noise_note(report)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", help="kl_bench's --benchmark_out JSON (bench.json)")
    ap.add_argument("--memory", help="scripts/profile's memory.json (optional)")
    ap.add_argument("--json", dest="json_out", help="write report.json here")
    ap.add_argument("--md", dest="md_out", help="write report.md here")
    ap.add_argument("--summary", action="store_true", help="print the summary table to stdout")
    args = ap.parse_args(argv)
    try:
        bench = load_json(args.bench, "bench")
        memory = load_json(args.memory, "memory") if args.memory else None
        if memory is not None and not isinstance(memory, dict):
            raise BadInput(f"memory {args.memory}: must be a JSON object")
        report = build_report(bench, memory)
        found = schema.problems(report)
        if found:
            raise BadInput("the report breaks its own schema (a report.py bug):\n  " + "\n  ".join(found))
        for out in (args.json_out, args.md_out):
            if out and not pathlib.Path(out).resolve().parent.is_dir():
                raise BadInput(f"output directory of {out} does not exist")
    except BadInput as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    if args.json_out:
        write_atomic(args.json_out, json.dumps(report, indent=2) + "\n")
    if args.md_out:
        write_atomic(args.md_out, markdown(report))
    if args.summary:
        print_summary(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
