"""report.html from report.json: loading and checking the report, filling in the fields older
reports lack, and the page itself (its CSS, its plot self-check script and the order of its
sections). The page is self-contained: it makes no network request."""
import json
import os
import sys

from kl.model import ops_of
from kl.plots import plot_bandwidth, plot_copy_fraction, plot_ladder, plot_matmul, plot_peers, plot_roofline
from kl.sections import (ceilings_section, esc, facts_section, figure, ladder_table, memory_section,
                         results_section, table, targets_section, training_section, warnings)
from kl.series import ok_results
from kl.targets import add_copy_fractions, add_peer_speedups, evaluate_targets


class BadReport(Exception):
    pass


def load_report(path, prog):
    """(path of report.json, the report) from a report directory or file; BadReport when it is
    missing, unreadable or not valid; prog names the tool in the warning printed when
    python3-jsonschema is missing."""
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
        print(f"{prog}: warning: schema not checked ({e}); checking required keys only", file=sys.stderr)
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
