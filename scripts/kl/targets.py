"""The course performance targets and the same-run ratios they read (x BLIS, x OpenBLAS, x the
faster peer, % of copy). Everything here works on report.json's own results (times), so it
also applies to reports written before these fields existed (report.html and reports/tests
use it that way)."""
from kl.model import LEGACY_OPS, ops_of
from kl.text import percent

# LayerNorm's loads and stores without its arithmetic, with ordinary stores
# (harness/bench_layernorm.cc): a kernel making the same passes and keeping y in cache cannot
# be faster, so where they sit below a copy target, only a different pass structure (or
# streaming y, which the rungs do once x + y pass L3) can meet it.
TRAFFIC_BOUNDS = ("traffic_1pass", "traffic_2pass")

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
