#!/usr/bin/python3
"""Validate kernellab report.json files against reports/schema/report.v<N>.schema.json.

Exit 0 when every file is valid; 1 with one line per problem otherwise; 2 on bad usage.
Uses python3-jsonschema (Debian package); see reports/README.md for the schema.
"""
import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from kl.schema import SCHEMA_DIR, problems, schema_for  # noqa: E402  (also imported as a module)

__all__ = ["SCHEMA_DIR", "problems", "schema_for", "main"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reports", nargs="+", metavar="REPORT.json", help="report file(s) to check")
    args = ap.parse_args(argv)
    try:
        import jsonschema

        del jsonschema  # only checking it is installed, before any file is read
    except ImportError:
        print("validate_report.py: needs python3-jsonschema (scripts/deps.sh --install)", file=sys.stderr)
        return 2
    bad = 0
    for name in args.reports:
        try:
            report = json.loads(pathlib.Path(name).read_text())
        except OSError as e:
            print(f"{name}: cannot read: {e.strerror}", file=sys.stderr)
            bad += 1
            continue
        except json.JSONDecodeError as e:
            print(f"{name}: not JSON: {e}", file=sys.stderr)
            bad += 1
            continue
        found = problems(report)
        for p in found:
            print(f"{name}: invalid: {p}", file=sys.stderr)
        if found:
            bad += 1
        else:
            print(f"{name}: valid (schema version {report['schema_version']})")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
