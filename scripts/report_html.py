#!/usr/bin/python3
"""Render a kernellab report as one self-contained HTML page: REPORT_DIR/report.html.

Reads REPORT_DIR/report.json (reports/schema/report.v1.schema.json, written by
scripts/report.py; it must validate) and writes, atomically (temp file + rename):
  - machine, build, BLIS and OpenBLAS facts (version, sub-configuration or core, and how each
    was chosen);
  - the measured ceilings (FMA peak per ISA and thread count, copy bandwidth per level);
  - matmul GFLOP/s vs n per rung, with BLIS, OpenBLAS and the FMA peaks as lines;
  - matmul's best rung as x BLIS, x OpenBLAS and x the faster of the two, vs n, with the targets;
  - the course targets (pass / miss / not measured, worst case of each), near the top;
  - ReLU and LayerNorm GB/s vs bytes per call, with the memcpy roof, the copy ceilings and BLIS;
  - ReLU and LayerNorm as % of copy (memcpy of the same bytes, same run, same threads) per size,
    with each op's copy target as a line;
  - a roofline per thread count from the measured ceilings, with every kernel placed at its
    arithmetic intensity;
  - the ladder: each rung's speedup over naive (log scale), BLIS alongside;
  - the memory table from scripts/profile (flagged rows highlighted, never hidden);
  - every result, in a collapsed table.
Plots are PNG (matplotlib, Agg) embedded as base64 data URIs; CSS is inline; the page makes
no network request. A small inline script checks that every plot decoded and is not blank
and records it in <body data-plots="OK/N"> (reports/tests uses it in headless Chromium).

Intensities used for the roofline (compulsory traffic, float32):
  matmul     2 m n k flop / 4 (m k + k n + m n) bytes
  linear_relu  2 m n k flop / 4 (m k + k n + n + m n) bytes (bias + ReLU flops not counted)
  relu       n flop (one max each) / 8 n bytes = 1/8
  layernorm  8 rows cols flop (mean, centre, square, sum, scale, gamma, beta) /
             4 (2 rows cols + 2 cols + 2 rows) bytes (the harness's byte model)

Exit status 0 on success; 1 when report.json is missing, unreadable, not JSON or not valid
against its schema (nothing is written then); 2 on bad usage. A report written before
fraction_of_copy and targets existed gets both computed here from its own results
(kl.targets' add_copy_fractions and evaluate_targets), and the page says so.
"""
import argparse
import base64
import html
import io
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kl.io import write_atomic  # noqa: E402
from kl.model import bytes_per_call, intensity, ops_of  # noqa: E402
from kl.targets import (TARGETS, TRAFFIC_BOUNDS, add_copy_fractions, add_peer_speedups,  # noqa: E402
                        evaluate_targets)
from kl.text import target_case_str  # noqa: E402

PROG = "report_html.py"
LEVELS = ["L1", "L2", "L3", "DRAM"]
ISA_ORDER = ["scalar", "avx2", "avx512"]
BLIS_COLOR = "#111111"
OPENBLAS_COLOR = "#6c3483"
PEER_STYLE = {"blis": {"color": BLIS_COLOR, "marker": "s"}, "openblas": {"color": OPENBLAS_COLOR, "marker": "D"}}
ROOF_COLOR = "#c0392b"
BOUND_COLOR = "#7f8c8d"  # LayerNorm's traffic bounds (kl.targets.TRAFFIC_BOUNDS)
BOUND_STYLE = {"traffic_1pass": "-.", "traffic_2pass": (0, (7, 2, 1, 2, 1, 2))}  # not ":" (ceilings)
VARIANT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def bound_line(v):
    """Legend label and line style of a traffic bound."""
    return {"label": f"{v} (loads and stores only)", "color": BOUND_COLOR,
            "linestyle": BOUND_STYLE.get(v, "-.")}


class BadReport(Exception):
    pass


# ---- loading ----------------------------------------------------------------------------

def load_report(path):
    if os.path.isdir(path):
        path = os.path.join(path, "report.json")
    if not os.path.isfile(path):
        raise BadReport(f"{path}: no such file (give a report directory written by scripts/bench.sh)")
    try:
        with open(path, encoding="utf-8") as f:
            report = json.load(f)
    except json.JSONDecodeError as e:
        raise BadReport(f"{path}: not valid JSON (line {e.lineno}: {e.msg})") from None
    except (OSError, UnicodeDecodeError) as e:
        raise BadReport(f"{path}: cannot read ({e})") from None
    try:
        from kl import schema
        probs = schema.problems(report)
    except ImportError as e:  # jsonschema missing: check the minimum we need by hand
        print(f"{PROG}: warning: schema not checked ({e}); checking required keys only", file=sys.stderr)
        probs = [] if isinstance(report, dict) else ["top level: must be a JSON object"]
        for key in ("schema_version", "machine", "build", "blis", "results", "correctness"):
            if isinstance(report, dict) and key not in report:
                probs.append(f"top level: '{key}' is missing")
    if probs:
        shown = "\n  ".join(probs[:10]) + (f"\n  ... and {len(probs) - 10} more" if len(probs) > 10 else "")
        raise BadReport(f"{path}: does not match its schema:\n  {shown}")
    return path, report


def with_derived_fields(report):
    """Fill in fraction_of_copy and targets when the report predates them; True if it did."""
    derived = False
    ops = ops_of(report)
    if any(ops.get(r["op"], {}).get("copy") and "fraction_of_copy" not in r for r in report["results"]):
        add_copy_fractions(report["results"], ops)
        derived = True
    if any("speedup_vs_best_peer" not in r for r in report["results"]):
        add_peer_speedups(report["results"])
    if "targets" not in report:
        report["targets"] = evaluate_targets(report)
        derived = True
    return derived


# ---- small helpers ----------------------------------------------------------------------

def esc(x):
    return html.escape("" if x is None else str(x))


def human_bytes(n):
    if n is None:
        return "-"
    for unit, div in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= div:
            return f"{n / div:.2f} {unit}" if abs(n) < 10 * div else f"{n / div:.1f} {unit}"
    return f"{n} B"


def num(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


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


# ---- plots ------------------------------------------------------------------------------

def plt_module():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 9, "axes.grid": True, "grid.alpha": 0.3,
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt


def png_data_uri(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", facecolor="white")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def series_style(i):
    markers = "osD^v<>ph*"
    return {"marker": markers[i % len(markers)], "markersize": 4, "linewidth": 1.4}


def plot_matmul(report, results):
    plt = plt_module()
    rs = [r for r in results if r["op"] == "matmul"]
    if not rs:
        return None
    tcs = thread_counts(rs, "matmul")
    fig, axes = plt.subplots(len(tcs), 1, figsize=(9.6, 3.4 * len(tcs)), squeeze=False)
    kernels = variants_in_order(rs, "matmul", "kernel")
    for ax, t in zip(axes[:, 0], tcs):
        for i, v in enumerate(kernels):
            pts = sorted((matmul_n(r), r["value"]) for r in rs if r["variant"] == v and r["threads"] == t)
            if pts:
                ax.plot(*zip(*pts), label=v, **series_style(i))
        for kind, label in peer_labels(report).items():
            pts = sorted((matmul_n(r), r["value"]) for r in rs if r["kind"] == kind and r["threads"] == t)
            if pts:
                ax.plot(*zip(*pts), linewidth=2.4, markersize=4, label=label, **PEER_STYLE[kind])
        for j, (isa, p) in enumerate(fma_peaks(report, t).items()):
            ax.axhline(p, color=ROOF_COLOR, linestyle=["--", "-.", ":"][j % 3], linewidth=1.1,
                       label=f"FMA peak {isa}: {p:.3g}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("n (square matmul n x n x n)")
        ax.set_ylabel("GFLOP/s")
        ax.set_title(f"matmul, {t} thread{'s' if t > 1 else ''}")
        ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return png_data_uri(fig)


def peer_labels(report):
    """{kind: legend label} of the peers: BLIS with its sub-configuration, OpenBLAS with its core."""
    ob = report.get("openblas") or {}
    return {"blis": f"BLIS ({report['blis']['sub_configuration']})",
            "openblas": f"OpenBLAS ({ob.get('core') or 'core not recorded'})"}


def peer_targets(report):
    """[(threads, lo, hi, min)] of the report's "peer" targets on matmul."""
    out = []
    for t in report.get("targets") or []:
        if t["measure"] == "peer" and t["op"] == "matmul":
            tgt = next((x for x in TARGETS if x["id"] == t["id"]), None)
            lo, hi = tgt["within"][1:] if tgt and "within" in tgt else (None, None)
            out += [(n, lo, hi, t["min"]) for n in t["threads"]]
    return out


def plot_peers(report, results):
    """matmul: the best kernel variant at each n as x BLIS, x OpenBLAS and x the faster of the
    two (peer time / kernel time), one panel per thread count, the peer targets as segments."""
    plt = plt_module()
    rs = [r for r in results if r["op"] == "matmul" and r["kind"] == "kernel"
          and r.get("speedup_vs_best_peer") is not None and matmul_n(r)]
    if not rs:
        return None
    tcs = sorted({r["threads"] for r in rs})
    fig, axes = plt.subplots(1, len(tcs), figsize=(5.2 * len(tcs) + 1.8, 3.6), squeeze=False, sharey=True)
    goals = peer_targets(report)
    for ax, t in zip(axes[0], tcs):
        best = {}
        for r in rs:
            if r["threads"] == t and (matmul_n(r) not in best or r["value"] > best[matmul_n(r)]["value"]):
                best[matmul_n(r)] = r
        ns = sorted(best)
        for key, label, style in (("speedup_vs_blis", "x BLIS", PEER_STYLE["blis"]),
                                  ("speedup_vs_openblas", "x OpenBLAS", PEER_STYLE["openblas"]),
                                  ("speedup_vs_best_peer", "x the faster of the two", {"color": "#e67e22", "marker": "o"})):
            pts = [(n, best[n][key]) for n in ns if best[n].get(key) is not None]
            if pts:
                best_line = key.endswith("best_peer")  # wide and pale, under the peer it follows
                ax.plot(*zip(*pts), label=label, linewidth=5.0 if best_line else 1.3, markersize=4,
                        alpha=0.45 if best_line else 1.0, zorder=1 if best_line else 2, **style)
        ax.axhline(1.0, color="#555", linewidth=0.8)
        for n_threads, lo, hi, m in goals:  # over the run's sizes the target covers
            inside = [n for n in ns if (lo is None or n >= lo) and (hi is None or n <= hi)]
            if n_threads == t and inside:
                ax.hlines(m, min(inside), max(inside), color="#27ae60", linestyle=":", linewidth=1.8,
                          label=f"target {m:g}x the faster, n {min(inside)}..{max(inside)}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")  # ratios: 2x faster and 2x slower the same distance from 1
        ax.set_xlabel("n (square matmul)")
        ax.set_ylabel("peer time / best kernel time")
        ax.set_title(f"matmul best rung, {t} thread{'s' if t > 1 else ''}")
    handles = {}
    for ax in axes[0]:
        for h, lb in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lb, h)
    axes[0][-1].legend(handles.values(), handles.keys(), fontsize=7.5, loc="upper left",
                       bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return png_data_uri(fig)


def plot_bandwidth(report, results, op, title):
    plt = plt_module()
    rs = [r for r in results if r["op"] == op]
    if not rs:
        return None
    tcs = thread_counts(rs, op)
    fig, axes = plt.subplots(len(tcs), 1, figsize=(9.6, 3.4 * len(tcs)), squeeze=False)
    kernels = variants_in_order(rs, op, "kernel")
    for ax, t in zip(axes[:, 0], tcs):
        for i, v in enumerate(kernels):
            pts = sorted((bytes_per_call(r), r["value"]) for r in rs if r["variant"] == v and r["threads"] == t)
            if pts:
                ax.plot(*zip(*pts), label=v, **series_style(i))
        for kind, color, style, name in (("blis", BLIS_COLOR, "-", None), ("roof", ROOF_COLOR, "--", None)):
            for v in variants_in_order(rs, op, kind):
                pts = sorted((bytes_per_call(r), r["value"]) for r in rs
                             if r["variant"] == v and r["threads"] == t)
                if pts:
                    label = f"BLIS ({v})" if kind == "blis" else f"copy roof ({v}, same bytes)"
                    line = (bound_line(v) if v in TRAFFIC_BOUNDS
                            else {"label": label, "color": color, "linestyle": style})
                    ax.plot(*zip(*pts), linewidth=2.2 if kind == "blis" else 1.6, marker="s", markersize=4,
                            **line)
        shades = ["#5d6d7e", "#85929e", "#a6acaf", "#cacfd2"]
        for j, (lv, b) in enumerate(copy_ceilings(report, t).items()):
            ax.axhline(b, color=shades[j % 4], linestyle=":", linewidth=1.4,
                       label=f"copy ceiling {lv}: {b:.1f} GB/s")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("bytes per call (byte model: x + y, and LayerNorm's small vectors)")
        ax.set_ylabel("GB/s")
        ax.set_title(f"{title}, {t} thread{'s' if t > 1 else ''}")
        ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return png_data_uri(fig)


def copy_targets(report):
    """{op: fraction of copy the course asks for} from the report's targets."""
    return {t["op"]: t["min"] for t in report.get("targets") or [] if t["measure"] == "copy"}


def plot_copy_fraction(report, results):
    """% of copy per size: one row of panels per op, one panel per thread count. Categorical x
    (the sizes in run order), so each size is one column a reader can follow across variants."""
    plt = plt_module()
    ops = [op for op in ("relu", "layernorm")
           if any(r["op"] == op and r.get("fraction_of_copy") is not None for r in results)]
    if not ops:
        return None
    tcs = sorted({r["threads"] for r in results if r["op"] in ops})
    fig, axes = plt.subplots(len(ops), len(tcs), figsize=(4.9 * len(tcs) + 1.6, 3.5 * len(ops)),
                             squeeze=False)
    goal = copy_targets(report)
    for row, op in enumerate(ops):
        rs = [r for r in results if r["op"] == op and r.get("fraction_of_copy") is not None]
        sizes = []
        for r in rs:
            if size_label(r) not in sizes:
                sizes.append(size_label(r))
        top = max([1.2] + [r["fraction_of_copy"] * 1.08 for r in rs])
        kernels, blis = variants_in_order(rs, op, "kernel"), variants_in_order(rs, op, "blis")
        bounds = [v for v in variants_in_order(rs, op, "roof") if v in TRAFFIC_BOUNDS]
        handles = {}  # one legend per op, with every variant of both panels, same style in each
        for col, t in enumerate(tcs):
            ax = axes[row][col]
            for i, v in enumerate(kernels + blis):
                pts = [(sizes.index(size_label(r)), 100 * r["fraction_of_copy"]) for r in rs
                       if r["variant"] == v and r["threads"] == t]
                if not pts:
                    continue
                style = ({"color": BLIS_COLOR, "linewidth": 2.2, "marker": "s", "markersize": 4} if v in blis
                         else dict(series_style(i), color=VARIANT_COLORS[i % len(VARIANT_COLORS)]))
                handles[f"BLIS ({v})" if v in blis else v] = ax.plot(*zip(*sorted(pts)), **style)[0]
            for v in bounds:
                pts = [(sizes.index(size_label(r)), 100 * r["fraction_of_copy"]) for r in rs
                       if r["variant"] == v and r["threads"] == t]
                if pts:
                    line = bound_line(v)
                    handles[line.pop("label")] = ax.plot(*zip(*sorted(pts)), linewidth=1.4, marker="s",
                                                         markersize=3.5, **line)[0]
            handles["memcpy = 100%"] = ax.axhline(100, color=ROOF_COLOR, linestyle="--", linewidth=1.4)
            if op in goal:
                handles[f"target {100 * goal[op]:.0f}%"] = ax.axhline(100 * goal[op], color="#27ae60",
                                                                       linestyle=":", linewidth=1.8)
            ax.set_xticks(range(len(sizes)))
            ax.set_xticklabels(sizes, rotation=25, ha="right", fontsize=7)
            ax.set_xlim(-0.4, len(sizes) - 0.6)
            ax.set_ylim(0, 100 * top)
            ax.set_ylabel("% of copy")
            ax.set_title(f"{op}, {t} thread{'s' if t > 1 else ''}")
        axes[row][-1].legend(handles.values(), handles.keys(), fontsize=7.5, loc="upper left",
                             bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    return png_data_uri(fig)


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


def draw_roofline(ax, t, peaks, bws, pts, lo, hi):
    top = list(peaks.values())[-1]
    grid = [lo * (hi / lo) ** (k / 200) for k in range(201)]
    colors = ["#2980b9", "#27ae60", "#8e44ad", "#d35400"]
    for j, (lv, b) in enumerate(bws.items()):
        ax.plot(grid, [min(top, x * b) for x in grid], color=colors[j % 4], linewidth=1.6,
                label=f"{lv} copy {b:.3g} GB/s (ridge {top / b:.3g})")
    for j, (isa, p) in enumerate(peaks.items()):
        ax.axhline(p, color=ROOF_COLOR, linestyle=["--", "-.", ":"][j % 3], linewidth=1.1,
                   label=f"FMA peak {isa} {p:.3g} GFLOP/s")
    op_color = {"matmul": "#c0392b", "relu": "#2471a3", "layernorm": "#239b56",
                "linear_relu": "#b9770e"}
    # Points of one op share an intensity: label them alternately right and left of the
    # column, in order of height, so the labels do not print over each other.
    by_x = {}
    for r, i, g in sorted(pts, key=lambda p: -p[2]):
        k = by_x.setdefault(round(math.log2(i), 2), 0)
        by_x[round(math.log2(i), 2)] += 1
        peer = r["kind"] in PEER_STYLE
        ax.scatter([i], [g], s=34, marker=PEER_STYLE[r["kind"]]["marker"] if peer else "o",
                   color=op_color.get(r["op"], "k"), edgecolors="black" if peer else "none", zorder=5)
        right = k % 2 == 0
        ax.annotate(f"{r['op']}/{r['variant']}", (i, g), xytext=(6 if right else -6, 0),
                    textcoords="offset points", ha="left" if right else "right", va="center",
                    fontsize=6.5, color="#333")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("arithmetic intensity (flop / byte, compulsory traffic)")
    ax.set_ylabel("GFLOP/s")
    ax.set_title(f"{t} thread{'s' if t > 1 else ''} (circle: kernellab, square: BLIS, diamond: OpenBLAS)")
    ax.legend(fontsize=7, loc="lower right")


def plot_roofline(report):
    """One roofline per thread count, side by side on the same axes' range."""
    plt = plt_module()
    panels = roofline_panels(report, ok_results(report))
    if not panels:
        return None
    xs = [i for *_, pts in panels for _, i, _ in pts]
    xs += [p / b for _, peaks, bws, _ in panels for p in peaks.values() for b in bws.values()]
    lo = 2 ** math.floor(math.log2(min(xs + [1 / 16]) / 2))
    hi = 2 ** math.ceil(math.log2(max(xs + [64]) * 2))
    fig, axes = plt.subplots(1, len(panels), figsize=(8.4 * len(panels), 5.0), squeeze=False, sharey=True)
    for ax, (t, peaks, bws, pts) in zip(axes[0], panels):
        draw_roofline(ax, t, peaks, bws, pts, lo, hi)
    fig.suptitle("Roofline: ceilings measured in this run; each kernel at its largest size")
    fig.tight_layout()
    return png_data_uri(fig)


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


def plot_ladder(results):
    plt = plt_module()
    lad = ladder_rows(results)
    if not lad:
        return None
    fig, axes = plt.subplots(1, len(lad), figsize=(4.4 * len(lad), 3.6), squeeze=False)
    for ax, (op, (label, metric, rows)) in zip(axes[0], lad.items()):
        names = [f"{v} ({t}T)" for v, _, _, t, _ in rows]
        sp = [s for *_, s in rows]
        colors = [PEER_STYLE[k]["color"] if k in PEER_STYLE else "#2e86c1" for _, k, _, _, _ in rows]
        y = list(range(len(rows)))
        ax.barh(y, sp, color=colors)
        ax.set_yticks(y)
        ax.set_yticklabels(names, fontsize=7.5)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.axvline(1, color="#555", linewidth=0.8)
        for yi, s in zip(y, sp):
            ax.annotate(f"{s:.2g}x", (s, yi), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
        ax.set_xlabel(f"speedup over naive ({metric}, best thread count)")
        ax.set_title(f"{op} ladder at {label}")
        lo, hi = min(sp + [1]), max(sp + [1])
        ax.set_xlim(lo / 2, hi * 4)
    fig.tight_layout()
    return png_data_uri(fig)


# ---- HTML -------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1180px;
color:#1c2833;padding:0 16px;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.6em;border-bottom:2px solid #d5dbdb;padding-bottom:.2em}
.sub{color:#566573}table{border-collapse:collapse;margin:.6em 0;font-size:.86em}
th,td{border:1px solid #d5dbdb;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f2f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flagged td{background:#fadbd8;font-weight:600}tr.failed td{background:#fdebd0}
tr.unavailable td{color:#808b96}td.over{background:#fdebd0}tr.miss td{background:#fdf2f1}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.85em;font-weight:600}
.ok{background:#d5f5e3;color:#145a32}.bad{background:#fadbd8;color:#78281f}.na{background:#eaeded;color:#424949}
img.plot{max-width:100%;border:1px solid #e5e8e8;display:block;margin:.5em 0}
.facts{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:0 24px}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.9em}
.warn{background:#fef5e7;border-left:5px solid #e67e22;padding:8px 12px;margin:1em 0}
details summary{cursor:pointer;font-weight:600}footer{margin-top:2em;color:#808b96;font-size:.8em}
"""

SELF_CHECK = """
(function () {
  function check() {
    var imgs = document.querySelectorAll('img.plot'), ok = 0, notes = [];
    for (var i = 0; i < imgs.length; i++) {
      var im = imgs[i], w = im.naturalWidth, h = im.naturalHeight, sd = -1;
      if (im.complete && w > 0 && h > 0) {
        var c = document.createElement('canvas');
        c.width = w; c.height = h;
        var g = c.getContext('2d');
        g.drawImage(im, 0, 0);
        var d = g.getImageData(0, 0, w, h).data, n = 0, s = 0, s2 = 0;
        for (var p = 0; p < d.length; p += 16) {
          var y = 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
          n++; s += y; s2 += y * y;
        }
        sd = Math.sqrt(Math.max(0, s2 / n - (s / n) * (s / n)));
      }
      if (sd > 2) ok++;
      notes.push(im.id + ' ' + w + 'x' + h + ' sd=' + sd.toFixed(1));
    }
    document.body.setAttribute('data-plots', ok + '/' + imgs.length);
    var el = document.getElementById('selfcheck');
    if (el) el.textContent = 'plots decoded and not blank: ' + ok + '/' + imgs.length + ' (' + notes.join('; ') + ')';
  }
  if (document.readyState === 'complete') check(); else window.addEventListener('load', check);
})();
"""


def table(header, rows, row_classes=None, num_cols=()):
    out = ["<table><thead><tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if row_classes and row_classes[i] else ""
        cells = []
        for j, c in enumerate(row):
            if isinstance(c, tuple):  # (html, td class)
                cells.append(f'<td class="{c[1]}">{c[0]}</td>' if c[1] else f"<td>{c[0]}</td>")
            else:
                cells.append(f'<td class="num">{esc(c)}</td>' if j in num_cols else f"<td>{esc(c)}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def facts_section(report):
    m, b, bl, run = report["machine"], report["build"], report["blis"], report["run"]
    caches = ", ".join(f"{lv} {human_bytes(m['caches'][lv]['bytes'])} ({m['caches'][lv]['source']})"
                       for lv in ("L1", "L2", "L3") if lv in m["caches"])
    machine = [("CPU", m["cpu_model"]), ("cores", m["cores"]), ("best ISA", m["isa"]),
               ("MHz", m.get("mhz")), ("caches", caches), ("host", run["host"]),
               ("load average at start", ", ".join(f"{x:.2f}" for x in run.get("load_avg", [])))]
    build = [("C compiler", b["c_compiler"]), ("C++ compiler", b["cpp_compiler"]),
             ("build type", b["buildtype"]), ("flags", b["flags"]), ("git commit", b["git_commit"]),
             ("kernellab", b["kl_version"]),
             ("Google Benchmark library build", run.get("benchmark_library_build_type"))]
    blis = [("BLIS version", bl["version"]), ("sub-configuration", bl["sub_configuration"]),
            ("chosen by", bl["how"]), ("forced", bl["forced"]), ("OpenMP", bl["openmp"])]
    ob = report.get("openblas")
    openblas = ([("OpenBLAS", "not in this run (older kl_bench)")] if ob is None else
                [("OpenBLAS", "not loaded"), ("why", ob["error"])] if not ob["loaded"] else
                [("OpenBLAS version", ob["version"]), ("core", ob["core"]), ("chosen by", ob["how"]),
                 ("forced", ob["forced"]), ("config", ob["config"])])
    parts = ['<div class="facts">']
    for title, rows in (("Machine", machine), ("Build", build), ("BLIS", blis), ("OpenBLAS", openblas)):
        parts.append(f"<div><h3>{title}</h3>" + table(["", ""], [(k, v) for k, v in rows]) + "</div>")
    parts.append("</div>")
    return "\n".join(parts)


def ceilings_section(report):
    c = report["machine"]["ceilings"]
    fma = [(x["isa"], x["threads"], num(x.get("gflops"), ".1f"), x.get("error", "")) for x in c.get("fma", [])]
    cp = [(x["level"], x.get("method", ""), human_bytes(x["bytes"]), x["threads"], num(x.get("gbps"), ".1f"),
           x.get("error", "")) for x in c.get("copy", [])]
    return ('<div class="facts"><div>' + table(["FMA ISA", "threads", "GFLOP/s", "error"], fma, num_cols=(1, 2))
            + "</div><div>" + table(["copy level", "method", "working set", "threads", "GB/s", "error"], cp,
                                    num_cols=(3, 4)) + "</div></div>")


def memory_section(report):
    mem = report.get("memory")
    if not mem:
        return ("<p>Not profiled in this run (<code>scripts/bench.sh --no-profile</code>, or "
                "<code>scripts/profile</code> was unavailable).</p>")
    entries = mem.get("entries", [])
    rows, classes = [], []
    for e in entries:
        st = e.get("status")
        sizes = "x".join(str(d) for d in e.get("sizes", []) if d)
        if st != "ok":
            rows.append((f"{e.get('op')}/{e.get('variant')}", e.get("rung", ""), e.get("threads", ""), sizes,
                         "-", "-", "-", "-", (f'<span class="badge na">{esc(st)}</span>', ""), e.get("note", "")))
            classes.append("unavailable" if st == "unavailable" else "failed")
            continue
        fl = e.get("flagged")
        badge = ('<span class="badge bad">FLAGGED</span>' if fl else
                 '<span class="badge na">not judged</span>' if fl is None else '<span class="badge ok">ok</span>')
        site = ""
        if e.get("top_sites"):
            s = e["top_sites"][0]
            site = f"{human_bytes(s['bytes'])}: " + " &larr; ".join(esc(f) for f in s["stack"][:4])
        rows.append((f"{e['op']}/{e['variant']}", e.get("rung", ""), e.get("threads", ""), sizes,
                     human_bytes(e.get("peak_bytes")), human_bytes(e.get("predicted_bytes")),
                     human_bytes(e.get("scratch_bytes")) if e.get("scratch_formula") else
                     ("none (BLIS)" if e.get("scratch_formula") is None else "none"),
                     num(e.get("ratio"), ".3f"), (badge, ""),
                     (site + (f"<br><em>{esc(e['note'])}</em>" if e.get("note") else ""), "mono")))
        classes.append("flagged" if fl else "")
    flagged = sum(1 for e in entries if e.get("flagged"))
    head = (f"<p>{esc(mem.get('tool', 'Massif'))} ({esc(mem.get('valgrind_version', ''))}), one call per "
            f"variant through <code>{esc(mem.get('workload', 'kl_workload'))}</code>. Peak = "
            f"{esc(mem.get('peak_measure', 'Massif peak mem_heap_B'))}. Rule: {esc(mem.get('flag_rule', ''))}, "
            f"allowance {human_bytes(mem.get('allowance_bytes'))}. "
            + (f'<span class="badge bad">{flagged} flagged</span>' if flagged else
               '<span class="badge ok">none flagged</span>') + "</p>")
    return head + table(["op/variant", "rung", "threads", "size", "peak", "predicted", "scratch formula",
                         "peak / predicted", "verdict", "largest allocation site at the peak"],
                        rows, classes, num_cols=(2, 4, 5, 6, 7))


def results_section(report):
    rows, classes = [], []
    for r in report["results"]:
        frac = r.get("fraction_of_ceiling")
        frac_cell = (num(frac, ".2f"), "num over" if frac is not None and frac > 1.0 else "num")
        rows.append((r["name"], r["kind"], r.get("rung") or "", r["threads"], r["metric"], num(r.get("value"), ".4g"),
                     r.get("ceiling") or "", frac_cell, num(r.get("speedup_vs_blis"), ".3g"),
                     num(r.get("speedup_vs_openblas"), ".3g"), num(r.get("speedup_vs_best_peer"), ".3g"),
                     num(r.get("fraction_of_copy"), ".2f"), r.get("error") or ""))
        classes.append("failed" if r.get("error") else "")
    over = sum(1 for r in report["results"] if (r.get("fraction_of_ceiling") or 0) > 1.0)
    note = (f"<p>{over} result(s) measured <em>above</em> their ceiling (shaded): the ceiling or the "
            f"byte model under-counts for them; read those fractions with care.</p>" if over else "")
    return note + table(["benchmark", "kind", "rung", "threads", "metric", "value", "ceiling",
                         "fraction", "x BLIS", "x OpenBLAS", "x best peer", "of copy", "error"], rows, classes,
                        num_cols=(3, 5, 8, 9, 10, 11))


TARGET_BADGE = {"pass": ("ok", "pass"), "miss": ("bad", "MISS"), "not measured": ("na", "not measured")}


def target_case_html(t, c, with_value=True):
    return esc(target_case_str(t["measure"], c, with_value))


def targets_section(report, derived):
    targets = report.get("targets") or []
    if not targets:
        return "<p>No targets in this report.</p>"
    rows, classes = [], []
    for t in targets:
        cls, word = TARGET_BADGE[t["status"]]
        missing = [c for c in t["cases"] if c["status"] == "not measured"]
        gone = "<br>".join(target_case_html(t, c, False) for c in missing[:4])
        gone += f"<br>and {len(missing) - 4} more" if len(missing) > 4 else ""
        gone = gone if t["cases"] else "no size in this range in the run"
        met = f"{t['passed']} of {t['measured']}" + (f" (+{len(missing)} not measured)" if missing else "")
        rows.append(((f'<span class="badge {cls}">{word}</span>', ""), f"{t['op']}: {t['target']}", t["sizes"],
                     " and ".join(str(n) for n in t["threads"]), met,
                     (target_case_html(t, t["worst"]) if t["worst"] else "-", "mono"), (gone or "-", "")))
        classes.append({"miss": "miss", "not measured": "unavailable"}.get(t["status"], ""))
    counts = {k: sum(1 for t in targets if t["status"] == k) for k in TARGET_BADGE}
    head = (f"<p>{counts['pass']} pass, <b>{counts['miss']} missed</b>, {counts['not measured']} not measured. "
            "Each case is one size and thread count; its figure is the best kernel variant there against "
            "the same-run FMA peak, BLIS, the faster of BLIS and OpenBLAS, or memcpy of the same bytes. "
            "<em>not measured</em>: a size or "
            "thread count the target needs was not in this run, so it cannot pass. The targets are "
            "<code>TARGETS</code> in scripts/report.py.</p>")
    if derived:
        head += ("<p class=\"sub\">This report.json predates targets and % of copy: both were computed "
                 "by report_html.py from its results.</p>")
    return head + table(["status", "target", "sizes", "threads", "cases met", "worst case", "not measured"],
                        rows, classes)


def figure(uri, ident, alt, caption):
    if uri is None:
        return "<p><em>No data for this plot in this run.</em></p>"
    return (f'<figure><img class="plot" id="{ident}" alt="{esc(alt)}" src="{uri}">'
            f"<figcaption class=\"sub\">{caption}</figcaption></figure>")


def ladder_table(results):
    parts = []
    for op, (label, metric, rows) in ladder_rows(results).items():
        parts.append(f"<h3>{esc(op)} at {esc(label)}</h3>" + table(
            ["variant", "kind", "threads", metric, "speedup over naive"],
            [(v, k, t, num(val, ".4g"), f"{s:.3g}x") for v, k, val, t, s in rows], num_cols=(2, 3, 4)))
    return "\n".join(parts)


def warnings(report):
    """A visible caution when the ceilings look disturbed: results above their own ceiling,
    or a load average above the core count when the run started (a shared machine)."""
    over = [r for r in report["results"] if (r.get("fraction_of_ceiling") or 0) > 1.0]
    load = (report["run"].get("load_avg") or [0])[0]
    cores = report["machine"]["cores"]
    notes = []
    if over:
        worst = max(over, key=lambda r: r["fraction_of_ceiling"])
        notes.append(f"{len(over)} of {len(report['results'])} results measured <b>above</b> their own "
                     f"ceiling (worst: {esc(worst['name'])} at {worst['fraction_of_ceiling']:.2g}x "
                     f"{esc(worst['ceiling'])}). A ceiling measured while other work ran is too low, or the "
                     f"byte model under-counts; fractions and the roofline are not trustworthy here. "
                     f"For ReLU and LayerNorm read <em>% of copy</em> instead (memcpy of the same bytes, "
                     f"timed in the same run).")
    if load > cores:
        notes.append(f"Load average {load:.2f} on {cores} cores when the run started: other programs "
                     f"shared the CPU, so every number here is noisy.")
    if not notes:
        return ""
    return '<div class="warn"><b>Read with care.</b> ' + " ".join(notes) + "</div>"


# ---- training (training.json and training_memory.json from scripts/train_compare and
# scripts/profile_training, beside report.json; absent: the section says so) -------------------

def load_training(report_dir):
    """(training, training_memory) dicts from the report folder, None for each that is absent."""
    docs = []
    for name in ("training.json", "training_memory.json"):
        path = os.path.join(report_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                docs.append(json.load(f))
        except (OSError, ValueError):
            docs.append(None)
    return docs


def plot_training(doc):
    """Left: median epoch time per rung family (the ladder runs) beside PyTorch, per thread
    count. Right: test accuracy by epoch of the full runs."""
    if not doc or not doc.get("runs"):
        return None
    plt = plt_module()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    ladder = doc.get("ladder") or []
    names = list(dict.fromkeys(r["variant"] for r in ladder))
    width = 0.8 / max(1, len(doc["threads"]))
    for ti, t in enumerate(doc["threads"]):
        ys = [next((r["epoch_s"] for r in ladder if r["variant"] == n and r["threads"] == t), 0)
              for n in names]
        ax1.bar([i + ti * width for i in range(len(names))], ys, width, label=f"{t} thread(s)")
    ax1.set_xticks([i + width * (len(doc["threads"]) - 1) / 2 for i in range(len(names))])
    ax1.set_xticklabels(names)
    ax1.set_yscale("log")
    ax1.set_ylabel("median epoch time (s, log)")
    ax1.set_title(f"the ladder ({doc.get('ladder_limit')} images per epoch)")
    ax1.legend()
    for i, r in enumerate(doc["runs"]):
        xs = [e["epoch"] for e in r["epochs"]]
        ax2.plot(xs, [e["test_accuracy"] for e in r["epochs"]],
                 label=f"{r['who']} {r['variant']} t={r['threads']}",
                 linestyle="-" if r["who"] == "kernellab" else "--", **series_style(i))
    ax2.axhline(0.89, color="grey", linestyle=":", linewidth=1)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("test accuracy")
    ax2.set_title("accuracy by epoch")
    ax2.legend(fontsize=7)
    return png_data_uri(fig)


def training_section(report_dir):
    doc, mem = load_training(report_dir)
    if not doc:
        return "<p><em>No training run in this report (bench.sh --no-train or --quick).</em></p>"
    rows = [(r["threads"], f"{r['kernellab_s']:.3f}", f"{r['pytorch_s']:.3f}", f"{r['ratio']:.2f}",
             f"{r['kernellab_accuracy']:.4f}", f"{r['pytorch_accuracy']:.4f}") for r in doc["ratios"]]
    out = [f"<p class=\"sub\">MLP 784-256-LN-ReLU-128-LN-ReLU-10 on Fashion-MNIST, batch {doc['batch']}, "
           f"{doc['epochs']} epochs, kernellab and PyTorch interleaved in one run on {esc(doc['cpu'])} "
           f"(load average {doc.get('load_average', float('nan')):.1f}; environment "
           f"{esc(doc.get('env', {}))}). Ratio = kernellab / PyTorch median epoch time.</p>",
           table(["threads", "kernellab epoch s", "PyTorch epoch s", "ratio", "kernellab accuracy",
                  "PyTorch accuracy"], rows, num_cols=(0, 1, 2, 3, 4, 5)),
           figure(plot_training(doc), "plot-training", "training: ladder and accuracy",
                  "Left: median epoch time of each rung family (every op at that rung) and PyTorch, "
                  "on a subset; right: test accuracy per epoch of the full runs (dotted: 0.89).")]
    if mem:
        p = mem["parts"]
        mrows = [("weights", p["weights_bytes"]), ("gradients", p["gradients_bytes"]),
                 ("optimizer state", p["optimizer_bytes"]), ("activations", p["activations_bytes"]),
                 ("batch", p["batch_bytes"]), ("largest call scratch", p["scratch_bytes"]),
                 ("predicted", p["predicted_bytes"]), ("Massif peak", mem["peak_bytes"])]
        out.append(f"<p>One training step under Massif (batch {mem['batch']}, {mem['threads']} "
                   f"thread(s)): {'<b>FLAGGED</b>' if mem['flagged'] else 'within the formula'}.</p>")
        out.append(table(["part", "bytes"], [(n, f"{b:,}") for n, b in mrows], num_cols=(1,)))
    return "\n".join(out)


def render(report, source):
    derived = with_derived_fields(report)
    results = ok_results(report)
    run, corr = report["run"], report["correctness"]
    status = ('<span class="badge ok">all correctness checks passed</span>' if corr["all_passed"] else
              f'<span class="badge bad">{corr["failed"]} of {corr["checked"]} checks FAILED</span>')
    failures = ""
    if corr.get("failures"):
        failures = table(["benchmark", "error"], [(f["name"], f["error"]) for f in corr["failures"]],
                         ["failed"] * len(corr["failures"]))
    warn = warnings(report)
    body = [
        f"<h1>kernellab report: {esc(run['host'])}, {esc(run['date'])}</h1>",
        f"<p class=\"sub\">size set <b>{esc(run['size_set'])}</b> &middot; schema v{report['schema_version']} "
        f"&middot; generated {esc(report['generated_at'])} &middot; {status} &middot; "
        f"{len(report['results'])} results</p>",
        failures, warn,
        "<h2>Targets</h2>", targets_section(report, derived),
        "<h2>Machine, build, BLIS and OpenBLAS</h2>", facts_section(report),
        "<h2>Measured ceilings</h2>", ceilings_section(report),
        "<h2>Matmul</h2>",
        figure(plot_matmul(report, results), "plot-matmul", "matmul GFLOP/s vs n",
               "GFLOP/s = 2 n<sup>3</sup> / time. BLIS (bli_sgemm) and OpenBLAS (cblas_sgemm) measured in "
               "the same run; red lines are the FMA peaks measured in the same run at the same thread count."),
        figure(plot_peers(report, results), "plot-peers", "matmul best rung against BLIS and OpenBLAS",
               "The best kernel variant at each n: BLIS time / its time, OpenBLAS time / its time, and the "
               "faster peer's time / its time (above 1: faster than that peer). Dotted green: the targets "
               "against the faster of the two."),
        "<h2>ReLU and LayerNorm</h2>",
        figure(plot_bandwidth(report, results, "relu", "ReLU"), "plot-relu", "ReLU GB/s vs size",
               "GB/s counts read x + write y (8 n bytes). Copy roof: memcpy of the same bytes in the "
               "same run; dotted: the copy ceilings per cache level; BLIS: bli_scopyv (same traffic)."),
        figure(plot_bandwidth(report, results, "layernorm", "LayerNorm"), "plot-layernorm",
               "LayerNorm GB/s vs size",
               "GB/s counts 4 (2 rows cols + 2 cols + 2 rows) bytes. BLIS: its level-1 composition "
               "(dotv, copyv, axpyv, scalv); copy roof: memcpy of x into y. Grey: LayerNorm's own "
               "loads and stores with no arithmetic and ordinary stores (one pass over x, or two): "
               "the most a kernel making those passes and keeping y in cache reaches."),
        figure(plot_copy_fraction(report, results), "plot-copy", "ReLU and LayerNorm as % of copy",
               "% of copy = time of memcpy of the same bytes (same size, same threads, same run) / time "
               "of the variant: 100% moves the bytes as fast as memcpy. Unlike the copy ceilings, "
               "measured separately on 64 MiB loops, this reference is timed beside the kernel, so "
               "machine noise moves both. Dotted green: the course target for the op. Grey "
               "(LayerNorm): its loads and stores with no arithmetic and ordinary stores, one or two "
               "passes over x; a kernel making those passes and keeping y in cache stays below them "
               "(up to run-to-run noise: each is timed on its own)."),
        "<h2>Roofline</h2>",
        figure(plot_roofline(report), "plot-roofline", "roofline",
               "Ceilings measured in this run, one panel per thread count. Intensities are compulsory traffic: matmul "
               "2mnk / 4(mk+kn+mn); ReLU 1/8; LayerNorm 8 rows cols / its byte model. Each kernel is "
               "shown at its largest size."),
        "<h2>The ladder</h2>",
        figure(plot_ladder(results), "plot-ladder", "speedup over naive per rung",
               "Each rung at the largest size where naive ran, best thread count; BLIS in black, "
               "OpenBLAS in purple."),
        ladder_table(results),
        "<h2>Memory (Valgrind Massif)</h2>", memory_section(report),
        "<h2>Training</h2>", training_section(os.path.dirname(source)),
        "<h2>All results</h2>",
        "<details><summary>" + f"{len(report['results'])} benchmarks" + "</summary>" + results_section(report)
        + "</details>",
        f"<footer>From <code>{esc(source)}</code> by scripts/report_html.py. "
        "<span id=\"selfcheck\">plots not checked (scripts disabled)</span></footer>",
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>kernellab report {esc(run['host'])} {esc(run['date'])}</title>"
            f"<style>{CSS}</style></head>\n<body>\n" + "\n".join(body)
            + f"\n<script>{SELF_CHECK}</script>\n</body></html>\n")


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/report_html.py", description=__doc__.split("\n\n")[0],
                                 epilog="See the top of this script for what the page contains.")
    ap.add_argument("report", metavar="REPORT_DIR", help="a report directory (or its report.json)")
    ap.add_argument("--out", metavar="FILE", help="where to write (default: REPORT_DIR/report.html)")
    args = ap.parse_args(argv)
    try:
        source, report = load_report(args.report)
        page = render(report, source)
    except BadReport as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 1
    except (KeyError, TypeError, ValueError) as e:  # valid JSON the renderer cannot use
        print(f"{PROG}: error: {args.report}: unexpected report content ({type(e).__name__}: {e})",
              file=sys.stderr)
        return 1
    out = args.out or os.path.join(os.path.dirname(source), "report.html")
    if not os.path.isdir(os.path.dirname(os.path.abspath(out))):
        print(f"{PROG}: error: {os.path.dirname(os.path.abspath(out))}: no such directory", file=sys.stderr)
        return 1
    write_atomic(out, page)
    print(f"{PROG}: wrote {out} ({len(page) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
