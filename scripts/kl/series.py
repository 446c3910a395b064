"""What report.html shows, picked from a report dict: the results that ran, variants in run
order, thread counts, sizes, the ceilings per thread count, the roofline's points and the
ladder's rows. No matplotlib and no HTML here (kl.plots and kl.sections draw them)."""
from kl.model import intensity

LEVELS = ["L1", "L2", "L3", "DRAM"]
ISA_ORDER = ["scalar", "avx2", "avx512"]


def ok_results(report):
    return [r for r in report["results"] if r.get("error") is None and r.get("value") is not None]


def matmul_n(r):
    s = r["size"]
    return s.get("n", s.get("m"))


def gflops(r):
    """GFLOP/s of a result: matmul's own value; GB/s x intensity for the others."""
    if r["metric"] == "GFLOP/s":
        return r["value"]
    i = intensity(r)
    return r["value"] * i if i else None


def size_key(r):
    s = r["size"]
    return tuple(s.get(k, 0) for k in ("m", "n", "k", "rows", "cols"))


def size_label(r):
    s = r["size"]
    if r["op"] in ("matmul", "linear_relu"):
        return f"{s.get('m')}x{s.get('n')}x{s.get('k')}"
    if r["op"] == "relu":
        return f"n={s['n']}" + (f" ({s['ws']})" if "ws" in s else "")
    return f"{s['rows']}x{s['cols']}" + (f" ({s['ws']})" if "ws" in s else "")


def variants_in_order(results, op, kind=None):
    seen = []
    for r in results:
        if r["op"] == op and (kind is None or r["kind"] == kind) and r["variant"] not in seen:
            seen.append(r["variant"])
    return seen


def thread_counts(results, op):
    return sorted({r["threads"] for r in results if r["op"] == op})


def fma_peaks(report, threads):
    out = {}
    for c in report["machine"]["ceilings"].get("fma", []):
        if c["threads"] == threads and c.get("gflops"):
            out[c["isa"]] = c["gflops"]
    return dict(sorted(out.items(), key=lambda kv: ISA_ORDER.index(kv[0]) if kv[0] in ISA_ORDER else 9))


def copy_ceilings(report, threads):
    """Per level, the faster of the copy methods measured (vector loop, memcpy): the roof."""
    out = {}
    for c in report["machine"]["ceilings"].get("copy", []):
        if c["threads"] == threads and c.get("gbps"):
            out[c["level"]] = max(out.get(c["level"], 0), c["gbps"])
    return {lv: out[lv] for lv in LEVELS if lv in out}


def roofline_points(results, threads):
    """Kernel and BLIS results at `threads`, each (op, variant) at its largest size."""
    best = {}
    for r in results:
        if r["threads"] != threads or r["kind"] == "roof":
            continue
        key = (r["op"], r["variant"])
        if key not in best or size_key(r) > size_key(best[key]):
            best[key] = r
    return list(best.values())


def roofline_panels(report, results):
    """[(threads, FMA peaks, copy ceilings, [(result, intensity, GFLOP/s)])] for every thread
    count with both ceilings and at least one placed result."""
    panels = []
    for t in sorted({c["threads"] for c in report["machine"]["ceilings"].get("fma", [])}):
        peaks, bws = fma_peaks(report, t), copy_ceilings(report, t)
        pts = [(r, intensity(r), gflops(r)) for r in roofline_points(results, t)]
        pts = [(r, i, g) for r, i, g in pts if i and g]
        if peaks and bws and pts:
            panels.append((t, peaks, bws, pts))
    return panels


def ladder_rows(results):
    """Per op: (size label, [(variant, kind, best value over threads, speedup over naive)])."""
    out = {}
    for op in ("matmul", "relu", "layernorm"):
        rs = [r for r in results if r["op"] == op]
        naive = [r for r in rs if r["variant"] == "naive" and r["threads"] == 1]
        if not naive:
            continue
        ref = max(naive, key=size_key)
        same = [r for r in rs if size_key(r) == size_key(ref) and r["kind"] != "roof"]
        rows = []
        for v in variants_in_order(same, op):
            vals = [r for r in same if r["variant"] == v]
            b = max(vals, key=lambda r: r["value"])
            rows.append((v, b["kind"], b["value"], b["threads"], b["value"] / ref["value"]))
        out[op] = (size_label(ref), ref["metric"], rows)
    return out
