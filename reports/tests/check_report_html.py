#!/usr/bin/python3
"""Render the committed fixture with scripts/report_html.py and open it in headless Chromium.

Checks, in order (the first failure ends the test with exit 1):
  1. bad input: a missing report and a malformed report.json each exit non-zero and write nothing;
  2. the page renders from reports/tests/fixture/report.json and is self-contained: every plot is
     a data: URI, and no src/href/url() points at the network; it has the Targets table (computed
     by the page: the fixture predates them);
  3. Chromium loads it (--dump-dom) and the page's own check reports every plot <img> decoded,
     with naturalWidth > 0 and non-blank pixels (<body data-plots="N/N">, N = EXPECTED_PLOTS);
  4. no console message at all (the page logs nothing; any CONSOLE line is an error or a warning);
  5. a full-page screenshot is not blank (pixel spread, when Pillow is present).
Exit 77 (meson: skipped) when chromium is not installed: apt-get install -y chromium.
The rendered page and screenshot are kept in --keep DIR (default: a temporary directory).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

EXPECTED_PLOTS = 7  # matmul, x peers, relu, layernorm, % of copy, roofline, ladder
HERE = os.path.dirname(os.path.abspath(__file__))
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--virtual-time-budget=10000"]


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def chromium(browser, url, extra, workdir, timeout=120):
    profile = tempfile.mkdtemp(prefix="chromium-profile-", dir=workdir)
    try:
        return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, url],
                              capture_output=True, text=True, timeout=timeout)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", default=os.path.dirname(os.path.dirname(HERE)), help="source tree root")
    ap.add_argument("--keep", metavar="DIR", help="keep report.html and screenshot.png here")
    args = ap.parse_args()
    render = os.path.join(args.root, "scripts", "report_html.py")
    fixture = os.path.join(HERE, "fixture", "report.json")
    py = "/usr/bin/python3"

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("SKIP: chromium is not installed (apt-get install -y chromium)")
        return 77

    work = tempfile.mkdtemp(prefix="kl_report_html_")
    out_dir = os.path.abspath(args.keep) if args.keep else work
    os.makedirs(out_dir, exist_ok=True)

    # 1. Bad input: clear error, non-zero exit, nothing written.
    bad = os.path.join(work, "bad")
    os.makedirs(bad)
    r = subprocess.run([py, render, bad], capture_output=True, text=True)
    if r.returncode == 0 or os.path.exists(os.path.join(bad, "report.html")) or "error" not in r.stderr:
        fail(f"a directory without report.json: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    with open(os.path.join(bad, "report.json"), "w") as f:
        f.write('{"schema_version": 1, "results": [')
    r = subprocess.run([py, render, bad], capture_output=True, text=True)
    if r.returncode == 0 or os.path.exists(os.path.join(bad, "report.html")) or "JSON" not in r.stderr:
        fail(f"a malformed report.json: exit {r.returncode}, stderr {r.stderr.strip()!r}")
    print("ok   bad input is refused and nothing is written")

    # 2. Render and check it is self-contained.
    page = os.path.join(out_dir, "report.html")
    r = subprocess.run([py, render, fixture, "--out", page], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"report_html.py on the fixture exited {r.returncode}: {r.stderr.strip()}")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    imgs = re.findall(r'<img class="plot" id="([^"]+)"[^>]*src="([^"]{0,40})', text)
    if len(imgs) != EXPECTED_PLOTS:
        fail(f"{len(imgs)} plot <img> elements, expected {EXPECTED_PLOTS}")
    for ident, src in imgs:
        if not src.startswith("data:image/png;base64,"):
            fail(f"plot {ident} is not an embedded PNG (src starts {src!r})")
    remote = re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//[^"]*"|url\(\s*["\']?(?:https?:)?//', text)
    if remote:
        fail(f"the page references the network: {remote[:3]}")
    print(f"ok   rendered {page}: {EXPECTED_PLOTS} embedded plots, no network references")

    # 2b. One roofline panel per thread count the fixture measured (1 and 2), each placing only
    # results of its own thread count; the 2-thread one holds the threaded rungs and BLIS.
    sys.path.insert(0, os.path.dirname(render))
    from kl.series import ok_results, roofline_panels
    rep = json.load(open(fixture))
    panels = roofline_panels(rep, ok_results(rep))
    threads = [t for t, *_ in panels]
    wrong = [(t, r["name"]) for t, _, _, pts in panels for r, _, _ in pts if r["threads"] != t]
    two = {r["variant"] for t, _, _, pts in panels if t == 2 for r, _, _ in pts}
    if threads != [1, 2] or wrong or not {"openmp", "blis"} <= two:
        fail(f"roofline panels for threads {threads}, misplaced {wrong[:3]}, 2-thread variants {sorted(two)}")
    print(f"ok   roofline: a panel per thread count {threads}; 2 threads: {', '.join(sorted(two))}")

    # 2a. The Targets table: the fixture predates report.json "targets", so the page computes
    # them and says so; its quick size set lacks n = 1024 and 2048, so those are not measured.
    sec = text[text.find("<h2>Targets</h2>"):text.find("<h2>Machine")]
    rows = re.findall(r'<tr[^>]*><td><span class="badge (ok|bad|na)">', sec)
    if len(rows) != 13 or "predates" not in sec or "n = 2048, 1 thread" not in sec:
        fail(f"the Targets section: {len(rows)} target rows (expected 13), computed note "
             f"{'predates' in sec}, n = 2048 listed as not measured {'n = 2048, 1 thread' in sec}")
    print(f"ok   Targets: {rows.count('ok')} pass, {rows.count('bad')} miss, {rows.count('na')} not measured")

    # 2b. A flagged memory row is shown and highlighted, never dropped.
    with open(fixture, encoding="utf-8") as f:
        rep = json.load(f)
    rows = [e for e in (rep.get("memory") or {}).get("entries", []) if e.get("status") == "ok"]
    if not rows:
        fail("the fixture has no profiled memory rows: regenerate it with scripts/profile enabled")
    rows[0]["flagged"] = True
    flagged_dir = os.path.join(work, "flagged")
    os.makedirs(flagged_dir)
    with open(os.path.join(flagged_dir, "report.json"), "w", encoding="utf-8") as f:
        json.dump(rep, f)
    r = subprocess.run([py, render, flagged_dir], capture_output=True, text=True)
    flagged_html = open(os.path.join(flagged_dir, "report.html"), encoding="utf-8").read() if r.returncode == 0 else ""
    label = f"{rows[0]['op']}/{rows[0]['variant']}"
    if not re.search(r'<tr class="flagged"><td>' + re.escape(label) + "</td>", flagged_html) \
            or "1 flagged" not in flagged_html:
        fail(f"a flagged memory row ({label}) is not shown highlighted")
    print(f"ok   a flagged memory row ({label}) is shown, highlighted")

    # 3 + 4. Load it; read the page's own image check; no console messages.
    url = "file://" + page
    r = chromium(browser, url, ["--enable-logging=stderr", "--v=0", "--dump-dom"], work)
    if r.returncode != 0:
        fail(f"chromium --dump-dom exited {r.returncode}: {r.stderr[-800:]}")
    m = re.search(r'<body[^>]*data-plots="(\d+)/(\d+)"', r.stdout)
    if not m:
        fail("the page's image check did not run (no data-plots on <body>): scripts failed?")
    ok, total = int(m.group(1)), int(m.group(2))
    detail = re.search(r'id="selfcheck">([^<]*)<', r.stdout)
    if total != EXPECTED_PLOTS or ok != total:
        fail(f"plots decoded and not blank: {ok}/{total} ({detail.group(1) if detail else ''})")
    console = [ln for ln in r.stderr.splitlines() if ":CONSOLE" in ln]
    if console:
        fail("console messages:\n  " + "\n  ".join(console[:10]))
    print(f"ok   chromium: {detail.group(1) if detail else f'{ok}/{total}'}; no console messages")

    # 5. Screenshot, for a person to look at, and not blank.
    shot = os.path.join(out_dir, "screenshot.png")
    r = chromium(browser, url, ["--window-size=1280,6000", f"--screenshot={shot}"], work)
    if r.returncode != 0 or not os.path.isfile(shot):
        fail(f"chromium --screenshot exited {r.returncode}: {r.stderr[-800:]}")
    try:
        from PIL import Image, ImageStat
        with Image.open(shot) as im:
            spread = ImageStat.Stat(im.convert("L")).stddev[0]
        if spread < 5:
            fail(f"the screenshot is blank (grey-level spread {spread:.1f})")
        print(f"ok   screenshot {shot} ({spread:.0f} grey-level spread)")
    except ImportError:
        print(f"ok   screenshot {shot} (Pillow missing: not checked for blankness)")
    shutil.rmtree(work, ignore_errors=True)  # with --keep, the page and screenshot are elsewhere
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
