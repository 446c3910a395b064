"""The plots of report.html: matplotlib (Agg) figures as PNG data URIs, each None when the
report has no data for it. matplotlib is imported on the first plot, not with the module."""
import base64
import io
import math

from kl.model import bytes_per_call
from kl.series import (copy_ceilings, fma_peaks, ladder_rows, matmul_n, ok_results, roofline_panels,
                       size_label, thread_counts, variants_in_order)
from kl.targets import TARGETS, TRAFFIC_BOUNDS

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


def log_panel(ax, xlabel, ylabel, title):
    """Log-log axes (x in powers of 2), labelled, legend to the right: a rate-against-size panel."""
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7.5, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)


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
        log_panel(ax, "n (square matmul n x n x n)", "GFLOP/s", f"matmul, {t} thread{'s' if t > 1 else ''}")
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
        log_panel(ax, "bytes per call (byte model: x + y, and LayerNorm's small vectors)", "GB/s",
                  f"{title}, {t} thread{'s' if t > 1 else ''}")
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
