#!/usr/bin/python3
"""scripts/profile end to end on the ReLU variants (small and quick under Valgrind):
  1. with the default allowance, every available ReLU variant is profiled, its peak is at least
     the 8 n bytes of x and y, and none is flagged (ReLU allocates no scratch); none fails: a
     variant Valgrind cannot run (AVX-512 on a CPU that has it) is "unavailable" with the reason;
  2. with --allowance -1 every profiled row is flagged, shown in the table, and kept in
     memory.json (never dropped), and --strict turns that into exit 1;
  3. bad usage (no --out) exits 2.
Exit 77 (meson: skipped) without valgrind."""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True, help="meson build root holding harness/massif/kl_workload")
    args = ap.parse_args()
    if not shutil.which("valgrind"):
        print("SKIP: valgrind is not installed (apt-get install -y valgrind)")
        return 77
    profile = [os.path.join(args.root, "scripts", "profile"), "--build", args.build, "--op", "relu", "--no-blis"]
    with tempfile.TemporaryDirectory(prefix="kl_profile_test_") as tmp:
        r = subprocess.run(profile + ["--out", tmp], capture_output=True, text=True)
        if r.returncode != 0:
            fail(f"profile exited {r.returncode}: {r.stderr.strip()}")
        mem = json.load(open(os.path.join(tmp, "memory.json")))
        n = mem["sizes"]["relu"][0]
        ok = [e for e in mem["entries"] if e["status"] == "ok"]
        if not ok:
            fail("no ReLU variant was profiled")
        for e in ok:
            if e["peak_bytes"] < 8 * n:
                fail(f"{e['variant']}: peak {e['peak_bytes']} < x + y = {8 * n} bytes")
            if e["flagged"] or e["predicted_bytes"] != 8 * n:
                fail(f"{e['variant']}: flagged={e['flagged']} predicted={e['predicted_bytes']} (expected 8 n)")
            if not e["top_sites"]:
                fail(f"{e['variant']}: no allocation sites parsed from the peak snapshot")
        print(f"ok   {len(ok)} ReLU variants: peak >= 8 n = {8 * n} bytes, none flagged")
        failed = [e["variant"] for e in mem["entries"] if e["status"] == "failed"]
        if failed or mem["failed_count"]:
            fail(f"failed rows: {failed} (failed_count {mem['failed_count']})")
        avx512 = next(e for e in mem["entries"] if e["variant"] == "avx512")
        if avx512["status"] != "ok" and not (avx512["status"] == "unavailable" and "avx512" in avx512["note"]):
            fail(f"relu/avx512: status {avx512['status']}, note {avx512.get('note')!r}")
        print(f"ok   none failed; relu/avx512: {avx512['status']} ({avx512.get('note') or 'profiled'})")

        r = subprocess.run(profile + ["--out", tmp, "--allowance", "-1"], capture_output=True, text=True)
        mem = json.load(open(os.path.join(tmp, "memory.json")))
        flagged = [e for e in mem["entries"] if e.get("flagged")]
        if r.returncode != 0 or len(flagged) != len(ok) or r.stdout.count("FLAGGED") < 2 * len(ok):
            fail(f"--allowance -1: exit {r.returncode}, {len(flagged)} of {len(ok)} flagged in memory.json")
        r = subprocess.run(profile + ["--out", tmp, "--allowance", "-1", "--strict", "--quiet"],
                           capture_output=True, text=True)
        if r.returncode != 1:
            fail(f"--strict with flagged rows exited {r.returncode}, expected 1")
        print("ok   a lowered allowance flags every row, keeps it, and --strict exits 1")

        r = subprocess.run(profile[:3], capture_output=True, text=True)
        if r.returncode != 2:
            fail(f"profile without --out exited {r.returncode}, expected 2")
        print("ok   bad usage exits 2")
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
