#!/usr/bin/env bash
# Build kernellab in release mode, benchmark every variant against BLIS in one kl_bench run,
# profile memory (scripts/profile, when present), and write reports/runs/<host>-<utc>/.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: scripts/bench.sh [--quick] [--no-profile] [--no-train] [--tune] [--filter REGEX] [--out DIR]

Installs missing Debian packages (scripts/deps.sh), configures build/ as a release build,
builds, runs build/harness/kl_bench with live progress, and writes
  reports/runs/<host>-<utc>/{bench.json, report.json, report.md, report.html[, memory.json]}
all at once (built in a temporary directory, then renamed): a failed run leaves nothing
behind and never replaces an existing report. Ends with a summary table and the path.

  --quick         a few small sizes (< 1 min on 2 cores); default set is < 5 min
  --no-profile    do not run scripts/profile (Massif) into the report
  --no-train      skip the training comparison (scripts/train_compare: the MLP of
                  modules/05_mlp, 10 epochs with kernellab and with PyTorch on 1 and 2 threads,
                  then the rung ladder; ~10 min on 2 cores); --quick skips it too
  --tune          first run scripts/tune (1-3 min): search the matmul blocking around the
                  cache model's point, time where the direct (no packing) path stops paying,
                  and store both for this CPU, which the library then reads (the report says
                  which blocking and direct budget ran and where they came from)
  --filter REGEX  only benchmarks matching REGEX (Google Benchmark's --benchmark_filter);
                  the machine ceilings always run, so fractions of peak stay defined
  --out DIR       write the report to DIR (must not exist yet) instead of reports/runs/<host>-<utc>
  -h, --help      this text

Exit status: 0 when every correctness check passed, 3 when the report was written but some
kernel failed its check (see report.md), anything else when no report was written.
USAGE
}

die() { echo "bench.sh: $*" >&2; exit 1; }
phase() { echo "==> [$((SECONDS - start)) s] $*"; }

quick=0 profile=1 train=1 tune=0 filter="" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --no-profile) profile=0 ;;
    --no-train) train=0 ;;
    --tune) tune=1 ;;
    --filter) { [ $# -ge 2 ] && [ -n "$2" ]; } || die "--filter needs a REGEX"; filter=$2; shift ;;
    --filter=*) filter=${1#--filter=}; [ -n "$filter" ] || die "--filter needs a REGEX" ;;
    --out) { [ $# -ge 2 ] && [ -n "$2" ]; } || die "--out needs a DIR"; out=$2; shift ;;
    --out=*) out=${1#--out=}; [ -n "$out" ] || die "--out needs a DIR" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

start=$SECONDS
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
py=/usr/bin/python3

host=$(hostname -s 2>/dev/null || hostname)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final=${out:-reports/runs/$host-$stamp}
[ -e "$final" ] && die "$final already exists: not overwriting it"
parent=$(dirname "$final")

phase "dependencies"
scripts/deps.sh --install

phase "configure build/ (release)"
if [ -f build/meson-private/coredata.dat ]; then
  meson configure build -Dbuildtype=release -Dbench=enabled
else
  meson setup build --buildtype=release -Dbench=enabled
fi

phase "build"
ninja -C build -j "$(nproc)"
bench=build/harness/kl_bench
[ -x "$bench" ] || die "$bench was not built (see the meson output above)"

if [ $tune = 1 ]; then
  phase "tune the matmul blocking (scripts/tune)"
  scripts/tune --build build || die "scripts/tune failed (see above); nothing benchmarked"
fi

mkdir -p "$parent"
tmp=$(mktemp -d "$parent/.tmp-$(basename "$final")-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM  # so the EXIT trap also cleans up after Ctrl-C

args=(--benchmark_out="$tmp/bench.json" --benchmark_out_format=json)
[ $quick = 1 ] && args+=(--kl_set=quick) || args+=(--kl_set=default)
[ -n "$filter" ] && args+=(--benchmark_filter="^ceiling/|$filter")
load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
if awk -v l="$load" -v n="$(nproc)" 'BEGIN { exit !(l > 0.5 * n) }'; then
  echo "bench.sh: WARNING: load average $load on $(nproc) cores: timings, multi-threaded ones above all, will be noisy" >&2
fi
phase "benchmark: $bench ${args[*]}"
"$bench" "${args[@]}" || die "kl_bench failed (exit $?)"

memory=()
if [ $profile = 1 ] && [ -x scripts/profile ]; then
  phase "memory profile: scripts/profile --out $tmp"
  scripts/profile --out "$tmp" || die "scripts/profile failed (use --no-profile to skip it)"
  if [ -f "$tmp/memory.json" ]; then memory=(--memory "$tmp/memory.json"); fi
fi

if [ $train = 1 ] && [ $quick = 0 ] && [ -x scripts/train_compare ]; then
  phase "training: scripts/train_compare --out $tmp"
  scripts/train_compare --out "$tmp" || die "scripts/train_compare failed (use --no-train to skip it)"
  if [ -x scripts/profile_training ]; then
    scripts/profile_training --out "$tmp" || die "scripts/profile_training failed (use --no-train to skip it)"
  fi
fi

phase "report"
$py scripts/report.py "$tmp/bench.json" "${memory[@]}" --json "$tmp/report.json" --md "$tmp/report.md"
# The training section (kernellab vs PyTorch, the ladder, accuracy curves; the training step's
# memory), written by train_compare and profile_training, goes after the kernel report.
for part in training.md training_memory.md; do
  if [ -f "$tmp/$part" ]; then { echo; cat "$tmp/$part"; } >> "$tmp/report.md"; fi
done
if [ -x scripts/report_html.py ]; then
  phase "report.html: scripts/report_html.py $tmp"
  $py scripts/report_html.py "$tmp" || die "scripts/report_html.py failed"
fi

[ -e "$final" ] && die "$final appeared while running: not overwriting it"
chmod -R a+rX "$tmp"  # mktemp/mkstemp make them private; a report is for reading
mv -T "$tmp" "$final"
trap - EXIT

echo
$py scripts/report.py "$final/bench.json" --summary
echo
passed=$($py -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["correctness"]["all_passed"]))' "$final/report.json")
echo "bench.sh: done in $((SECONDS - start)) s; report: $final/report.md"
[ -f "$final/report.html" ] && echo "bench.sh: plots: $final/report.html"
if [ "$passed" != 1 ]; then
  echo "bench.sh: some kernels FAILED their correctness check (errors in the table above)" >&2
  exit 3
fi
