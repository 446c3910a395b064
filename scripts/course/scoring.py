"""Checking a report.json (reports/schema/report.v1.schema.json) and scoring it.

Score: for each benchmark case (op, size, threads), the best speedup over BLIS (BLIS time / kernel
time, same case) that any of the report's passing variants reached; a report's score is the
geometric mean of those over the benchmark set, so implementing one more rung never lowers it.
Shared by scripts/leaderboard and scripts/grade so both score the same way."""
import math
from collections import Counter

from kl import schema
from kl.model import CEILING_TOLERANCE, LEGACY_OPS, measured_ceiling, modelled_work

from . import untrusted_json
from .machine_record import ENVELOPE, MACHINE_FIELDS, case_key, case_label

# The ceiling rule (which ceiling applies, and the noise allowed above it) is kl.model's.
# Recomputed figures (rates from work/time, speedups, the machine record's copies) may differ this much.
CONSISTENCY = 0.02
MAX_REASONS = 3
# Result kinds whose figures are checked: kernels (scored), BLIS (the baseline) and roofs (which
# may lift a ceiling). Peers such as OpenBLAS are shown by the report but neither scored nor
# trusted here, so they are not checked either (a library may beat a measured ceiling).
CHECKED_KINDS = ("kernel", "blis", "roof")


def load(path):
    """(report or None, reason): size, depth, NaN/Infinity and duplicate keys are reasons
    (scripts/course/untrusted_json.py); an unreadable file is a CourseError."""
    return untrusted_json.load(path)


def schema_problems(report):
    """Schema problems via kl.schema (python3-jsonschema); the grader's
    envelope (machine id, signature) is not part of the schema."""
    if isinstance(report, dict):
        report = {k: v for k, v in report.items() if k not in ENVELOPE}
    return schema.problems(report)


def not_implemented(error):
    return "not implemented" in (error or "").lower()


# Ops whose figures can be checked against their work (work() below): results of any other op
# are neither checked nor scored, and their cases leave the benchmark set (with a note), so a
# new op cannot be used to smuggle in a figure, nor does it reject honest reports.
MODELLED_OPS = tuple(LEGACY_OPS)  # in the leaderboard's order


def work(r):
    """The work of one call of result r in its metric's unit x 1e-9 (flops for GFLOP/s, bytes for
    GB/s), by kl.model's models, never by the report's own flops and bytes (a forged report
    would set them); None when the op has no model or the metric is not the op's."""
    flops, moved = modelled_work(r)
    if flops is None:
        return None
    rate = LEGACY_OPS[r["op"]]["rate"]
    if r["metric"] == "GFLOP/s" and rate == "GFLOPS":
        return float(flops)  # the epilogue's flops are not counted
    if r["metric"] == "GB/s" and rate == "GBps":
        if r["kind"] == "roof" and r["variant"] == "memcpy" and r["op"] == "layernorm":
            return 8.0 * r["size"]["rows"] * r["size"]["cols"]  # the copy of x into y
        return float(moved)
    return None


def _ceiling(ceilings, r):
    """(name, value) of the measured ceiling for result r, or (None, None)."""
    t, flops = r["threads"], r["metric"] == "GFLOP/s"
    best = measured_ceiling(ceilings, flops, t, r["size"].get("ws"))
    if best is None:
        return None, None
    return (f"fma/{best['isa']}/threads:{t}", best["gflops"]) if flops else (f"copy/{best['level']}/threads:{t}", best["gbps"])


def _trusted_best(rows):
    """Best figure per (metric, level, threads) that BLIS or a roof (memcpy, LayerNorm's traffic
    bounds) reached: the machine can do at least that much, so a ceiling measured below it is
    raised to it. Only trusted rows: the machine record's (measured without student code), or a
    report's own BLIS rows when there is no record (never its roofs: they are what a forged
    report would inflate to lift the ceiling)."""
    best = {}
    for r in rows:
        k = (r["metric"], r["size"].get("ws"), r["threads"])
        best[k] = max(best.get(k, 0.0), r["value"])
    return best


def _differs(a, b):
    if a is None or b is None:
        return a is not b
    return abs(a - b) > CONSISTENCY * max(abs(a), abs(b))


def _ceiling_table(ceilings):
    fma = {f"fma/{x.get('isa')}/threads:{x.get('threads')}": x.get("gflops") for x in ceilings["fma"]}
    copy = {f"{x.get('method')}/{x.get('level')}/{x.get('bytes')}B/threads:{x.get('threads')}": x.get("gbps")
            for x in ceilings["copy"]}
    return {**fma, **copy}


def against_record(report, record):
    """Reasons the report's machine, ceilings or BLIS figures disagree with the grader's record."""
    out = []
    mine, theirs = report["machine"], record.machine
    for f in MACHINE_FIELDS:
        if mine.get(f) != theirs.get(f):
            out.append(f"machine.{f} {mine.get(f)!r} is not the machine record's {theirs.get(f)!r}")
    a, b = _ceiling_table(mine["ceilings"]), _ceiling_table(theirs["ceilings"])
    bad = sorted(set(a) ^ set(b)) + sorted(k for k in set(a) & set(b) if _differs(a[k], b[k]))
    if bad:
        k = bad[0]
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        out.append(f"ceiling {k} = {a.get(k)} disagrees with the machine record's {b.get(k)}{more}")
    for r in report["results"]:
        if r["kind"] not in ("blis", "roof") or r["error"]:
            continue
        what = "BLIS" if r["kind"] == "blis" else "roof"
        rec = record.blis.get(case_key(r)) if r["kind"] == "blis" else record.roofs.get((r["variant"], case_key(r)))
        if rec is None:
            out.append(f"{r['name']}: a {what} figure the machine record does not have")
        elif _differs(r["time_s"], rec["time_s"]) or _differs(r["value"], rec["value"]):
            out.append(f"{r['name']}: {what} {r['value']:.4g} {r['metric']} in {r['time_s']:.4g} s disagrees with "
                       f"the machine record's {rec['value']:.4g} in {rec['time_s']:.4g} s")
    return out


def _duplicates(results):
    names = Counter(r["name"] for r in results)
    cases = Counter((r["kind"], r["variant"], case_key(r)) for r in results)
    dup = [f"result {n} appears {c} times" for n, c in names.items() if c > 1]
    dup += [f"{kind} {case_label(k)} ({v}) appears {c} times" for (kind, v, k), c in cases.items() if c > 1]
    return dup[:1] + ([f"and {len(dup) - 1} more duplicated results"] if len(dup) > 1 else [])


def _correctness(report, results, unimpl):
    wrong = [f for f in report["correctness"]["failures"] if not not_implemented(f["error"])]
    errors = [r for r in results if r["error"] and not not_implemented(r["error"])]
    if wrong or errors:
        first = (wrong or [{"name": errors[0]["name"], "error": errors[0]["error"]}])[0]
        n = max(len(wrong), len(errors))
        return [f"{n} correctness check{'s' if n != 1 else ''} failed, e.g. {first['name']}: {first['error']}"]
    if not report["correctness"]["all_passed"] and not unimpl:
        return ["correctness.all_passed is false"]
    return []


def _figure_problems(r, ceilings, trusted, tolerance, notes, raised):
    """Reasons one measured figure (kernel, BLIS or roof) cannot be true."""
    if not r["time_s"] > 0:
        return [f"{r['name']}: time_s {r['time_s']} is not a time"]
    out = []
    w = work(r)
    if w is None:
        out.append(f"{r['name']}: no work model for {r['op']} in {r['metric']} at this size to check it against")
    else:
        expect = w / r["time_s"] / 1e9
        if _differs(expect, r["value"]):
            out.append(f"{r['name']}: {r['value']:.4g} {r['metric']} does not match its time "
                       f"({expect:.4g} {r['metric']} from its work / {r['time_s']:.4g} s)")
    name, peak = _ceiling(ceilings, r)
    k = (r["metric"], r["size"].get("ws"), r["threads"])
    if peak is not None and trusted.get(k, 0) > peak:
        if notes is not None and (name, k) not in raised:
            notes.append(f"measured ceiling {name} = {peak:.4g} is below what BLIS or memcpy reached on this machine "
                         f"({trusted[k]:.4g} {r['metric']}); that figure is used as the ceiling")
        raised.add((name, k))
        peak = trusted[k]
    if peak is None:
        out.append(f"{r['name']}: no measured ceiling to check {r['value']:.4g} {r['metric']} against")
    else:
        rate = max(r["value"], w / r["time_s"] / 1e9 if w else 0)  # as stated, or as its time says
        if rate > peak * (1 + tolerance):
            basis = (" (timed in CPU time, the ceiling in real time: on a loaded machine CPU time "
                     "inflates rates)" if r.get("time_basis") == "cpu" else "")
            out.append(f"{r['name']}: {rate:.4g} {r['metric']} is above the measured ceiling "
                       f"{peak:.4g} ({name}){basis}")
    return out


def check(report, tolerance=CEILING_TOLERANCE, notes=None, record=None):
    """Check a parsed report. Returns (reasons, rows, unimplemented): reasons to reject it
    (empty when valid); rows = [{op, variant, size, threads, speedup, value, metric}] of kernel
    results that passed and have a BLIS figure of the same case; unimplemented = sorted
    "op/variant" whose kernels returned "not implemented". With a machine record
    (machine_record.Record), the ceilings and BLIS figures are the record's, and the report's
    own copies must agree with them."""
    probs = schema_problems(report)
    if probs:
        more = f" (and {len(probs) - 1} more)" if len(probs) > 1 else ""
        return [f"does not match its schema: {probs[0]}{more}"], [], []
    results = report["results"]
    unimpl = sorted({f"{r['op']}/{r['variant']}" for r in results
                     if r["kind"] == "kernel" and not_implemented(r["error"])})
    reasons = _duplicates(results) + _correctness(report, results, unimpl)
    own_blis = {case_key(r): r for r in results if r["kind"] == "blis" and not r["error"]}
    if record is not None:
        reasons += against_record(report, record)
        ceilings, blis = record.machine["ceilings"], record.blis
        trusted = _trusted_best([*blis.values(), *record.roofs.values()])
    else:
        ceilings, blis = report["machine"]["ceilings"], own_blis
        trusted = _trusted_best(blis.values())
        for op in sorted({r["op"] for r in results if r["kind"] == "kernel" and not r["error"]} & set(MODELLED_OPS)):
            if not any(k[0] == op for k in blis):
                reasons.append(f"no BLIS result for {op} from the same run")
    rows, raised, unmodelled = [], set(), set()
    for r in results:
        if r["error"] or r["value"] is None or r["kind"] not in CHECKED_KINDS:
            continue
        if r["op"] not in MODELLED_OPS:
            if notes is not None and r["op"] not in unmodelled:
                notes.append(f"{r['op']}: no work model in scripts/course/scoring.py, so its results are not scored")
            unmodelled.add(r["op"])
            continue
        reasons += _figure_problems(r, ceilings, trusted, tolerance, notes, raised)
        b = blis.get(case_key(r))
        if r["kind"] != "kernel" or not b or not r["time_s"] > 0:
            continue
        own = own_blis.get(case_key(r))
        if own and own["time_s"] > 0 and r["speedup_vs_blis"] is not None:
            said = own["time_s"] / r["time_s"]
            if _differs(said, r["speedup_vs_blis"]):
                reasons.append(f"{r['name']}: speedup_vs_blis {r['speedup_vs_blis']:.4g} does not match the "
                               f"times ({said:.4g})")
        rows.append({"op": r["op"], "variant": r["variant"], "size": r["size"], "threads": r["threads"],
                     "speedup": b["time_s"] / r["time_s"], "value": r["value"], "metric": r["metric"]})
    if not reasons and not rows:
        reasons.append("no kernel result with a BLIS figure of the same case to score")
    if len(reasons) > MAX_REASONS:
        reasons = reasons[:MAX_REASONS] + [f"and {len(reasons) - MAX_REASONS} more problems"]
    return reasons, rows, unimpl


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def best_per_case(rows):
    """{case_key: the row with the highest speedup at that case}."""
    best = {}
    for r in rows:
        k = case_key(r)
        if k not in best or r["speedup"] > best[k]["speedup"]:
            best[k] = r
    return best


def scores(rows, cases=None):
    """Scores from check()'s rows over the benchmark set `cases` (case_key tuples; default: every
    case the rows cover). A case without a passing result is missing: it is left out of the
    geometric mean and counted in "covered" / "total", which rank first (scripts/leaderboard).
    {"overall": g, "covered": n, "total": N, "ops": {op: g}, "ops_covered": {op: [n, N]},
     "best": {case label: {"variant", "speedup"}}, "variants": {op/variant: g over its rows}}."""
    best = best_per_case(rows)
    cases = sorted(best if cases is None else cases)
    hit = [c for c in cases if c in best]
    out = {"overall": geomean([best[c]["speedup"] for c in hit]), "covered": len(hit), "total": len(cases),
           "ops": {}, "ops_covered": {}, "variants": {},
           "best": {case_label(c): {"variant": best[c]["variant"], "speedup": best[c]["speedup"]} for c in hit}}
    for op in sorted({c[0] for c in cases}):
        mine = [c for c in cases if c[0] == op]
        got = [best[c]["speedup"] for c in mine if c in best]
        out["ops"][op] = geomean(got)
        out["ops_covered"][op] = [len(got), len(mine)]
    for v in sorted({(r["op"], r["variant"]) for r in rows}):
        out["variants"]["/".join(v)] = geomean([r["speedup"] for r in rows if (r["op"], r["variant"]) == v])
    return out
