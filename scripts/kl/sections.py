"""report.html's parts as HTML: escaping, tables and figures, then one function per section
(facts, ceilings, memory, results, targets, the ladder, warnings, training)."""
import html
import json
import os

from kl.model import thread_scaling_note
from kl.plots import plot_training
from kl.series import ladder_rows
from kl.text import target_case_str


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
            "<code>TARGETS</code> in scripts/kl/targets.py.</p>")
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
    a load average above the core count when the run started (a shared machine), or an FMA
    peak that did not grow with the threads."""
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
    scaling = thread_scaling_note(report)
    if scaling:
        notes.append(esc(scaling))
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
