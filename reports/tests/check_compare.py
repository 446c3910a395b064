#!/usr/bin/python3
"""scripts/compare on committed fixtures:
  1. a report against itself: exit 0, every row "same", geometric means 1.000;
  2. two real runs with 9 repetitions each: the U-test column carries compare.py's p-values
     (skipped, with a message, when /usr/share/benchmark/compare.py or scipy is missing);
  3. a missing report and a malformed report.json: exit 2 with an error line."""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def run(compare, *args):
    return subprocess.run([compare, *args], capture_output=True, text=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    args = ap.parse_args()
    compare = os.path.join(args.root, "scripts", "compare")
    fx = os.path.join(HERE, "fixture")

    r = run(compare, fx, os.path.join(fx, "report.json"))
    rows = [ln for ln in r.stdout.splitlines() if "/threads:" in ln]
    if r.returncode != 0 or not rows or any(" same " not in ln for ln in rows) \
            or "geometric mean B/A = 1.000" not in r.stdout:
        fail(f"self-comparison: exit {r.returncode}\n{r.stdout[-1500:]}{r.stderr}")
    print(f"ok   a report against itself: {len(rows)} rows, all 'same'")

    r = run(compare, os.path.join(fx, "compare_a"), os.path.join(fx, "compare_b"))
    if r.returncode != 0:
        fail(f"compare_a vs compare_b: exit {r.returncode}: {r.stderr}")
    relu = [ln for ln in r.stdout.splitlines() if ln.startswith("relu/")]
    if "compare.py failed" in r.stdout or "compare.py missing" in r.stdout:
        print(f"SKIP the U test part: {r.stdout.splitlines()[2]}")
    elif len(relu) != 2 or not all("p=" in ln and "9v9 reps" in ln for ln in relu):
        fail("no U-test verdicts from compare.py:\n" + r.stdout)
    else:
        print("ok   9-repetition runs: U-test verdicts from Google Benchmark's compare.py")
        for ln in relu:
            print("     " + ln)

    with tempfile.TemporaryDirectory(prefix="kl_compare_test_") as tmp:
        r = run(compare, os.path.join(tmp, "missing"), fx)
        if r.returncode != 2 or "error" not in r.stderr:
            fail(f"missing report: exit {r.returncode}, stderr {r.stderr!r}")
        with open(os.path.join(tmp, "report.json"), "w") as f:
            f.write("{not json")
        r = run(compare, tmp, fx)
        if r.returncode != 2 or "not valid JSON" not in r.stderr:
            fail(f"malformed report: exit {r.returncode}, stderr {r.stderr!r}")
    print("ok   missing and malformed reports exit 2 with an error")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
