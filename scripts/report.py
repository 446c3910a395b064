#!/usr/bin/python3
"""Turn one kl_bench run (Google Benchmark JSON) into report.json and report.md.

report.json follows reports/schema/report.v1.schema.json (documented in reports/README.md):
machine and its measured ceilings, build, BLIS sub-configuration, one result per benchmark
with its fraction of the relevant ceiling and its speedup over BLIS from the same run, the
correctness summary, and scripts/profile's memory.json when given. Both files are written
only after the report validates; nothing is written on bad input.
"""
import argparse
import datetime
import json
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import validate_report  # noqa: E402

UNIT_S = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
# The BLIS baseline each op's results are compared with (same size, same threads).
BLIS_BASELINE = {"matmul": "blis", "relu": "blis_copyv", "layernorm": "blis_l1",
                 "linear_relu": "blis_relu"}  # bli_sgemm + a separate bias+ReLU pass
FLOP_OPS = ("matmul", "linear_relu")  # GFLOP/s against the FMA peak; the rest GB/s
ROOFS = {"memcpy"}


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
        if op not in BLIS_BASELINE:
            raise BadInput(f"{name}: unknown op '{op}'")
        parsed.append((name, op, variant, f, real, e))

    def ceiling_for(op, f):
        t = f["threads"]
        if op in FLOP_OPS:  # the machine's peak: its best ISA at this thread count
            c = [r for r in fma if r["threads"] == t and r["gflops"]]
            best = max(c, key=lambda r: r["gflops"], default=None)
            return (f"fma/{best['isa']}/threads:{t}", best["gflops"]) if best else (None, None)
        # the faster way to move bytes at the working set's level: vector loop or memcpy
        c = [r for r in copy if r["threads"] == t and r["level"] == f.get("ws") and r["gbps"]]
        best = max(c, key=lambda r: r["gbps"], default=None)
        return (f"{best['method']}/{best['level']}/threads:{t}", best["gbps"]) if best else (None, None)

    size_keys = ("m", "n", "k", "rows", "cols", "ws")
    times = {}
    results = []
    for name, op, variant, f, real, e in parsed:
        info = reg.get((op, variant))
        kind = "kernel" if info else "roof" if variant in ROOFS else "blis" if variant == BLIS_BASELINE[op] else None
        if kind is None:
            raise BadInput(f"{name}: '{variant}' is neither in the registry (bench.json context) nor a baseline")
        metric = "GFLOP/s" if op in FLOP_OPS else "GB/s"
        r = {"name": name, "op": op, "variant": variant, "kind": kind,
             "rung": info.get("rung") if info else None, "isa": info.get("isa") if info else None,
             "size": {k: f[k] for k in size_keys if k in f}, "threads": f["threads"],
             "time_s": None, "time_basis": "real" if real else "cpu", "metric": metric,
             "value": None, "ceiling": None, "fraction_of_ceiling": None,
             "blis_baseline": None, "speedup_vs_blis": None, "error": None}
        if "error" in e:
            r["error"] = e["error"]
        else:
            _, r["value"], r["time_s"] = rate(e, real)
            r["ceiling"], peak = ceiling_for(op, f)
            r["fraction_of_ceiling"] = r["value"] / peak if peak else None
            times[(op, variant, tuple(sorted(r["size"].items())), f["threads"])] = r["time_s"]
        results.append(r)
    for r in results:  # speedup = BLIS time / this time: same work, same size, same threads
        if r["error"]:
            continue
        base = BLIS_BASELINE[r["op"]]
        t = times.get((r["op"], base, tuple(sorted(r["size"].items())), r["threads"]))
        if t:
            r["blis_baseline"] = f"{r['op']}/{base}"
            r["speedup_vs_blis"] = t / r["time_s"]

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
        "results": results,
        "correctness": {"all_passed": not failures, "checked": len(results), "failed": len(failures),
                        "failures": failures},
        "memory": memory,
    }
    return report


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
    """Results faster than their ceiling (beyond 5%): only a noisy run measures a ceiling low."""
    return [r for r in report["results"] if (r["fraction_of_ceiling"] or 0) > 1.05]


def noise_note(report):
    over = above_ceiling(report)
    if not over:
        return None
    load = report["run"]["load_avg"][0] if report["run"]["load_avg"] else "unknown"
    return (f"{len(over)} results exceed their measured ceiling, so the machine was not quiet "
            f"(load average at start: {load}): rerun on an idle machine before comparing.")


def summary_rows(report):
    rows = []
    for r in report["results"]:
        rate_s = f"ERROR: {r['error']}" if r["error"] else f"{r['value']:.2f} {r['metric']}"
        pct = fmt(None if r["fraction_of_ceiling"] is None else 100 * r["fraction_of_ceiling"], ".1f")
        rows.append([r["op"], r["variant"], size_str(r["size"]), str(r["threads"]), rate_s,
                     pct + ("%" if pct != "—" else ""), fmt(r["speedup_vs_blis"], ".2f") + ("x" if r["speedup_vs_blis"] else "")])
    return rows


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown(report):
    m, b, bl, run = report["machine"], report["build"], report["blis"], report["run"]
    out = [f"# kernellab benchmark report — {run['host']} {run['date']}", ""]
    ok = report["correctness"]
    status = "every check passed" if ok["all_passed"] else f"{ok['failed']} of {ok['checked']} FAILED"
    out.append(f"**Correctness:** {status} ({ok['checked']} results, size set `{run['size_set']}`).")
    if noise_note(report):
        out += ["", f"**Warning:** {noise_note(report)}"]
    out += ["", "## Machine", "",
            f"- CPU: {m['cpu_model']}, {m['cores']} cores, ISA `{m['isa']}`, {m['mhz']} MHz",
            "- Caches: " + ", ".join(f"{k} {v['bytes'] // 1024} KiB ({v['source']})" for k, v in m["caches"].items()),
            f"- Load average at start: {run['load_avg']} (multi-threaded figures need a quiet machine)",
            f"- Environment: {', '.join(f'{k}={v}' for k, v in run['environment'].items()) or 'no OMP_*/BLIS_*/KL_ISA set'}",
            f"- Build: {b['c_compiler']}, `{b['buildtype']}`, {b['flags']}; git `{b['git_commit']}`, kernellab {b['kl_version']}",
            f"- BLIS {bl['version']}, sub-configuration `{bl['sub_configuration']}` "
            f"({'forced' if bl['forced'] else 'auto'}: {bl['how']})",
            f"- Google Benchmark library build type: {run['benchmark_library_build_type']}", "",
            "## Ceilings (measured in this run)", "",
            table(["ceiling", "threads", "rate"],
                  [[f"FMA peak, {c['isa']}", str(c["threads"]), f"{fmt(c['gflops'], '.1f')} GFLOP/s"] for c in m["ceilings"]["fma"]]
                  + [[f"{c['method']}, {c['level']} ({c['bytes'] // 1024} KiB)", str(c["threads"]), f"{fmt(c['gbps'], '.1f')} GB/s"]
                     for c in m["ceilings"]["copy"]])]
    notes = {
        "matmul": "C = A·B (alpha 1, beta 0), square n. GFLOP/s = 2n³/time; % of the best-ISA FMA peak at "
                  "the same threads; × BLIS = bli_sgemm time / this time. The naive rung is not run above "
                  "n = 512 (minutes per size). Above 2^27 multiply-adds the pre-timing check covers the first "
                  "and last 16 rows and every 8th row, all columns.",
        "relu": "y = max(x, 0), out of place. GB/s counts 8n bytes (read x, write y); % of the faster copy "
                "ceiling (vector loop or memcpy) at the working set's level and threads; × BLIS = bli_scopyv time (same bytes) / this time; "
                "`memcpy` is the bandwidth roof.",
        "layernorm": "GB/s counts 4(2·rows·cols + 2·cols + 2·rows) bytes; baseline `blis_l1` is BLIS level-1 "
                     "per row (sdotv with ones, copyv, axpyv, sdotv, scalv; gamma/beta by a plain loop); "
                     "`memcpy` copies x to y (the roof).",
        "linear_relu": "C = relu(A·B + bias) (m, n, k as given). GFLOP/s = 2mnk/time (the epilogue is not "
                       "counted); % of the best-ISA FMA peak; `unfused` is the best matmul then a separate "
                       "bias+ReLU pass over C, `fused` applies it to each tile as it is written; "
                       "× BLIS = time of `blis_relu` (bli_sgemm, then the same separate pass) / this time.",
    }
    header = ["variant", "rung", "isa", "size", "threads", "time", "rate", "% of ceiling", "× BLIS"]
    for op in ("matmul", "relu", "layernorm", "linear_relu"):
        rs = [r for r in report["results"] if r["op"] == op]
        if not rs:
            continue
        rows = []
        for r in rs:
            rows.append([r["variant"], r["rung"] or r["kind"], r["isa"] or "—", size_str(r["size"]),
                         str(r["threads"]),
                         "—" if r["time_s"] is None else f"{r['time_s'] * 1e6:.1f} µs",
                         f"**error:** {r['error']}" if r["error"] else f"{r['value']:.2f} {r['metric']}",
                         fmt(None if r["fraction_of_ceiling"] is None else 100 * r["fraction_of_ceiling"], ".1f"),
                         fmt(r["speedup_vs_blis"], ".2f")])
        out += ["", f"## {op}", "", notes[op], "", table(header, rows)]
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


def write_atomic(path, text):
    path = pathlib.Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def print_summary(report):
    header = ["op", "variant", "size", "threads", "rate", "% of ceiling", "x BLIS"]
    rows = [header] + summary_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
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
        found = validate_report.problems(report)
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
