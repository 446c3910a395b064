#!/usr/bin/python3
"""Turn one kl_bench run (Google Benchmark JSON) into report.json and report.md.

report.json follows reports/schema/report.v1.schema.json (documented in reports/README.md):
machine and its measured ceilings, build, BLIS sub-configuration and OpenBLAS core, one result
per benchmark with its fraction of the relevant ceiling and its speedups over BLIS, over
OpenBLAS and over the faster of the two from the same run, the correctness summary, and
scripts/profile's memory.json when given. Both files are written
only after the report validates; nothing is written on bad input.
"""
import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from kl.io import write_atomic  # noqa: E402
from kl.markdown import markdown, print_summary  # noqa: E402
from kl.report import BadInput, checked_report  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", help="kl_bench's --benchmark_out JSON (bench.json)")
    ap.add_argument("--memory", help="scripts/profile's memory.json (optional)")
    ap.add_argument("--json", dest="json_out", help="write report.json here")
    ap.add_argument("--md", dest="md_out", help="write report.md here")
    ap.add_argument("--summary", action="store_true", help="print the summary table to stdout")
    args = ap.parse_args(argv)
    try:
        report = checked_report(args.bench, args.memory)
        for out in (args.json_out, args.md_out):
            if out and not pathlib.Path(out).resolve().parent.is_dir():
                raise BadInput(f"output directory of {out} does not exist")
    except BadInput as e:
        print(f"report.py: {e}", file=sys.stderr)
        return 1
    if args.json_out:
        write_atomic(args.json_out, json.dumps(report, indent=2) + "\n")
    if args.md_out:
        write_atomic(args.md_out, markdown(report))
    if args.summary:
        print_summary(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
