"""Checking a report.json (reports/schema/report.v1.schema.json) and scoring it: the geometric
mean of speedup over BLIS measured in the same run, over the kernel results that passed.
Shared by scripts/leaderboard and scripts/grade so both score the same way."""
import json
import math
import os
import sys

from . import ROOT

# Measurement noise allowance before a figure counts as "above the measured ceiling".
CEILING_TOLERANCE = 0.10
# Recomputed figures (GFLOP/s from the times, speedup from the BLIS time) may differ this much.
CONSISTENCY = 0.02


def schema_problems(report):
    """Schema problems via scripts/validate_report.py (python3-jsonschema)."""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import validate_report
    finally:
        sys.path.pop(0)
    return validate_report.problems(report)


def not_implemented(error):
    return "not implemented" in (error or "").lower()


def _ceiling(report, r):
    """(name, value) of the measured ceiling for result r, or (None, None)."""
    c = report["machine"]["ceilings"]
    t = r["threads"]
    if r["metric"] == "GFLOP/s":  # matmul, linear_relu: the FMA peak
        rows = [x for x in c["fma"] if x["threads"] == t and x.get("gflops")]
        best = max(rows, key=lambda x: x["gflops"], default=None)
        return (f"fma/{best['isa']}/threads:{t}", best["gflops"]) if best else (None, None)
    rows = [x for x in c["copy"] if x["threads"] == t and x["level"] == r["size"].get("ws") and x.get("gbps")]
    best = max(rows, key=lambda x: x["gbps"], default=None)  # the faster method is the roof
    return (f"copy/{best['level']}/threads:{t}", best["gbps"]) if best else (None, None)


def _key(r):
    return (r["op"], tuple(sorted(r["size"].items())), r["threads"])


def _trusted_best(results):
    """Best figure per (metric, level, threads) that BLIS or a roof (memcpy, LayerNorm's traffic
    bounds) reached in the run: the machine can do at least that much, so a ceiling measured
    below it is raised to it."""
    best = {}
    for r in results:
        if r["kind"] in ("blis", "roof") and not r["error"] and r["value"]:
            k = (r["metric"], r["size"].get("ws"), r["threads"])
            best[k] = max(best.get(k, 0.0), r["value"])
    return best


def check(report, tolerance=CEILING_TOLERANCE, notes=None):
    """Check a parsed report. Returns (reasons, rows, unimplemented): reasons to reject it
    (empty when valid); rows = [{op, variant, size, threads, speedup, value, metric}] of kernel
    results that passed and have a BLIS result of the same shape; unimplemented = sorted
    "op/variant" whose kernels returned "not implemented"."""
    probs = schema_problems(report)
    if probs:
        more = f" (and {len(probs) - 1} more)" if len(probs) > 1 else ""
        return [f"does not match its schema: {probs[0]}{more}"], [], []
    reasons = []
    results = report["results"]
    unimpl = sorted({f"{r['op']}/{r['variant']}" for r in results
                     if r["kind"] == "kernel" and not_implemented(r["error"])})
    wrong = [f for f in report["correctness"]["failures"] if not not_implemented(f["error"])]
    errors = [r for r in results if r["error"] and not not_implemented(r["error"])]
    if wrong or errors:
        first = (wrong or [{"name": errors[0]["name"], "error": errors[0]["error"]}])[0]
        n = max(len(wrong), len(errors))
        reasons.append(f"{n} correctness check{'s' if n != 1 else ''} failed, e.g. {first['name']}: {first['error']}")
    elif not report["correctness"]["all_passed"] and not unimpl:
        reasons.append("correctness.all_passed is false")
    blis = {_key(r): r for r in results if r["kind"] == "blis" and not r["error"]}
    ops = sorted({r["op"] for r in results if r["kind"] == "kernel" and not r["error"]})
    for op in ops:
        if not any(k[0] == op for k in blis):
            reasons.append(f"no BLIS result for {op} from the same run")
    rows = []
    trusted = _trusted_best(results)
    raised = set()
    for r in results:
        if r["error"] or r["kind"] == "roof" or r["value"] is None:
            continue
        name, peak = _ceiling(report, r)
        k = (r["metric"], r["size"].get("ws"), r["threads"])
        if peak is not None and trusted.get(k, 0) > peak:
            if notes is not None and (name, k) not in raised:
                notes.append(f"measured ceiling {name} = {peak:.4g} is below what BLIS/memcpy reached in the "
                             f"same run ({trusted[k]:.4g} {r['metric']}); that figure is used as the ceiling")
            raised.add((name, k))
            peak = trusted[k]
        if peak is None:
            reasons.append(f"{r['name']}: no measured ceiling to check {r['value']:.4g} {r['metric']} against")
            continue
        if r["value"] > peak * (1 + tolerance):  # recomputed: the report's own fraction is not trusted
            basis = (" (timed in CPU time, the ceiling in real time: on a loaded machine CPU time "
                     "inflates rates)" if r.get("time_basis") == "cpu" else "")
            reasons.append(f"{r['name']}: {r['value']:.4g} {r['metric']} is above the measured ceiling "
                           f"{peak:.4g} ({name}){basis}")
        s = r["size"]
        if r["metric"] == "GFLOP/s" and r["time_s"] and all(k in s for k in "mnk"):
            expect = 2.0 * s["m"] * s["n"] * s["k"] / r["time_s"] / 1e9
            if abs(expect - r["value"]) > CONSISTENCY * max(expect, r["value"]):
                reasons.append(f"{r['name']}: {r['value']:.4g} GFLOP/s does not match its time "
                               f"({expect:.4g} GFLOP/s from 2mnk/time)")
        if r["kind"] != "kernel":
            continue
        b = blis.get(_key(r))
        if not b or not r["time_s"]:
            continue
        speedup = b["time_s"] / r["time_s"]
        if r["speedup_vs_blis"] is not None and abs(speedup - r["speedup_vs_blis"]) > CONSISTENCY * speedup:
            reasons.append(f"{r['name']}: speedup_vs_blis {r['speedup_vs_blis']:.4g} does not match the "
                           f"times ({speedup:.4g})")
        rows.append({"op": r["op"], "variant": r["variant"], "size": s, "threads": r["threads"],
                     "speedup": speedup, "value": r["value"], "metric": r["metric"]})
    if not reasons and not rows:
        reasons.append("no kernel result with a BLIS result of the same shape to score")
    if len(reasons) > 3:
        reasons = reasons[:3] + [f"and {len(reasons) - 3} more problems"]
    return reasons, rows, unimpl


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def scores(rows):
    """{"overall": g, "ops": {op: g}, "variants": {op/variant: g}} from check()'s rows."""
    out = {"overall": geomean([r["speedup"] for r in rows]), "ops": {}, "variants": {}}
    for op in sorted({r["op"] for r in rows}):
        out["ops"][op] = geomean([r["speedup"] for r in rows if r["op"] == op])
    for v in sorted({(r["op"], r["variant"]) for r in rows}):
        out["variants"]["/".join(v)] = geomean([r["speedup"] for r in rows if (r["op"], r["variant"]) == v])
    return out


def load(path):
    """(report or None, reason). A file that cannot be parsed is a reason, not an exception."""
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), None
    except json.JSONDecodeError as e:
        return None, f"not JSON: {e.msg} at line {e.lineno}"
    except UnicodeDecodeError:
        return None, "not UTF-8 text"
