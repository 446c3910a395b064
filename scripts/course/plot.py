#!/usr/bin/python3
"""Draw one lesson figure: results/NAME.json (a measure cell's numbers) -> NAME.png.

  plot.py FIGURE.json OUT.png

Lessons call this after writing their numbers (kl_lesson_figure in modules/lesson.c). The
JSON's "kind" picks the picture; every kind has "title" and may have "machine" (a line of
facts about the CPU it ran on, printed under the title):
  lines     "xlabel", "ylabel", "xlog", "ylog", "series": [{"label", "x": [..], "y": [..]}]
            (the matmul ladder: GFLOP/s by rung and n; null y values are left out)
  roofline  "peaks": [{"label", "gflops"}], "bandwidths": [{"label", "gbps"}],
            "points": [{"label", "intensity", "gflops"}]  (log-log, roofs and the student's points);
            or "roofs_from": another roofline JSON (relative path) whose peaks and bandwidths to use
            (lesson 01 draws its rungs under the roofs lesson 00 measured)
  bars      "ylabel", "bars": [{"label", "value"}], "reference": number or null
            (% of memcpy for ReLU and LayerNorm; the reference is drawn as a line)
Exits 1 with a one-line message on bad input; writes OUT.png atomically."""
import json
import math
import os
import sys
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


class BadFigure(Exception):
    pass


def number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def need(obj, key, kind):
    if not isinstance(obj, dict) or key not in obj:
        raise BadFigure(f"'{key}' missing")
    if not isinstance(obj[key], kind):
        raise BadFigure(f"'{key}' has the wrong type")
    return obj[key]


def draw_lines(ax, fig):
    for s in need(fig, "series", list):
        if not isinstance(s, dict):
            raise BadFigure("a series is not an object")
        xs, ys = need(s, "x", list), need(s, "y", list)
        pts = [(x, y) for x, y in zip(xs, ys) if number(x) and number(y) and y > 0]
        if pts:
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=str(s.get("label", "")))
    if fig.get("xlog"):
        ax.set_xscale("log", base=2)
    if fig.get("ylog"):
        ax.set_yscale("log")
    ax.set_xlabel(str(fig.get("xlabel", "")))
    ax.set_ylabel(str(fig.get("ylabel", "")))


def draw_roofline(ax, fig):
    peaks = [p for p in need(fig, "peaks", list) if isinstance(p, dict) and number(p.get("gflops")) and p["gflops"] > 0]
    bws = [b for b in need(fig, "bandwidths", list) if isinstance(b, dict) and number(b.get("gbps")) and b["gbps"] > 0]
    points = [p for p in fig.get("points", []) if isinstance(p, dict)
              and number(p.get("intensity")) and number(p.get("gflops")) and p["intensity"] > 0
              and p["gflops"] > 0]
    if not peaks or not bws:
        raise BadFigure("a roofline needs a positive peak and a positive bandwidth")
    top = max(p["gflops"] for p in peaks)
    lo = min([0.01] + [p["intensity"] / 2 for p in points])
    hi = max([4 * top / min(b["gbps"] for b in bws)] + [p["intensity"] * 2 for p in points])
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    for b in bws:
        ax.plot(xs, [min(top, x * b["gbps"]) for x in xs], linewidth=1.5,
                label=f"{b.get('label', '')}: {b['gbps']:.0f} GB/s")
    for i, p in enumerate(sorted(peaks, key=lambda p: -p["gflops"])):
        ax.axhline(p["gflops"], linestyle="--", linewidth=0.8, color="grey")
        # labels step left, so equal peaks (AVX2 and AVX-512 on some cores) stay readable
        ax.annotate(f"{p.get('label', '')} {p['gflops']:.0f} GFLOP/s", (xs[-1 - 45 * (i % 4)], p["gflops"]),
                    ha="right", va="bottom", fontsize=7)
    for p in points:
        ax.plot([p["intensity"]], [p["gflops"]], marker="o", linestyle="none", color="black")
        ax.annotate(str(p.get("label", "")), (p["intensity"], p["gflops"]), fontsize=7,
                    xytext=(4, -10), textcoords="offset points")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("arithmetic intensity (flop/byte)")
    ax.set_ylabel("GFLOP/s")


def draw_bars(ax, fig):
    bars = [b for b in need(fig, "bars", list) if isinstance(b, dict)]
    labels = [str(b.get("label", "")) for b in bars]
    values = [b["value"] if number(b.get("value")) else 0 for b in bars]
    ax.bar(range(len(bars)), values, color="tab:blue")
    ax.set_xticks(range(len(bars)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=8)
    for i, b in enumerate(bars):
        if not number(b.get("value")):
            ax.annotate("n/a", (i, 0), ha="center", va="bottom", fontsize=7)
    ref = fig.get("reference")
    if number(ref):
        ax.axhline(ref, linestyle="--", color="grey", linewidth=0.8)
    ax.set_ylabel(str(fig.get("ylabel", "")))


KINDS = {"lines": draw_lines, "roofline": draw_roofline, "bars": draw_bars}


def load(path):
    try:
        with open(path, encoding="utf-8") as f:
            fig = json.load(f)
    except (OSError, ValueError) as e:
        raise BadFigure(f"cannot read {path}: {e}") from None
    if not isinstance(fig, dict):
        raise BadFigure(f"{path} is not a JSON object")
    return fig


def plot(src, out):
    fig = load(src)
    if fig.get("kind") == "roofline" and isinstance(fig.get("roofs_from"), str):
        roofs = load(os.path.join(os.path.dirname(os.path.abspath(src)), fig["roofs_from"]))
        fig["peaks"], fig["bandwidths"] = roofs.get("peaks"), roofs.get("bandwidths")
    kind = need(fig, "kind", str)
    if kind not in KINDS:
        raise BadFigure(f"unknown kind '{kind}' (one of {', '.join(KINDS)})")
    f, ax = plt.subplots(figsize=(7, 4.2), dpi=100)
    KINDS[kind](ax, fig)
    title = str(fig.get("title", ""))
    if fig.get("machine"):
        title += "\n" + str(fig["machine"])
    ax.set_title(title, fontsize=9)
    ax.grid(True, which="both", linewidth=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    f.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(out)), suffix=".png")
    os.close(fd)
    try:
        f.savefig(tmp, format="png")
        os.replace(tmp, out)
    finally:
        plt.close(f)
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(argv) == 2 else 2
    try:
        plot(argv[1], argv[2])
    except BadFigure as e:
        print(f"plot: {argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
