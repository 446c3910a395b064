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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kl.io import write_atomic  # noqa: E402
from kl.page import BadReport, load_report, render  # noqa: E402

PROG = "report_html.py"


def main(argv=None):
    ap = argparse.ArgumentParser(prog="scripts/report_html.py", description=__doc__.split("\n\n")[0],
                                 epilog="See the top of this script for what the page contains.")
    ap.add_argument("report", metavar="REPORT_DIR", help="a report directory (or its report.json)")
    ap.add_argument("--out", metavar="FILE", help="where to write (default: REPORT_DIR/report.html)")
    args = ap.parse_args(argv)
    try:
        source, report = load_report(args.report, PROG)
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
