"""report.md and the summary table report.py --summary prints, from a report dict."""
import json

from kl.model import CEILING_TOLERANCE, flop_op, ops_of, thread_scaling_note
from kl.report import OPENBLAS_BASELINE
from kl.text import fmt, percent, size_str, target_case_str, times_str


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
            "The course performance targets (`TARGETS` in scripts/kl/targets.py) on this run's numbers. Each "
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
    out = [f"- Matmul blocking: `{mb['blocks']}` from the {mb['source']}{detail}"]
    if "direct_bytes" in mb:
        source = {"model": "the model: this CPU's L2", "tuned": "the tuned file",
                  "environment": "KL_MATMUL_DIRECT_KIB"}[mb["direct_source"]]
        out.append(f"- Matmul direct path (no packing): budget {mb['direct_bytes'] // 1024} KiB from"
                   f" {source} (the rule: kernels/matmul/gemm.h)")
    return out


def markdown(report):
    m, b, bl, run = report["machine"], report["build"], report["blis"], report["run"]
    out = [f"# kernellab benchmark report — {run['host']} {run['date']}", ""]
    ok = report["correctness"]
    status = "every check passed" if ok["all_passed"] else f"{ok['failed']} of {ok['checked']} FAILED"
    out.append(f"**Correctness:** {status} ({ok['checked']} results, size set `{run['size_set']}`).")
    out += ["", f"**Warning:** {note}"] if (note := noise_note(report)) else []
    out += ["", f"**Warning:** {note}"] if (note := thread_scaling_note(report)) else []
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
                     "once x + y pass L3, and can).",
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
