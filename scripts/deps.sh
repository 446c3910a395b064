#!/usr/bin/env bash
# The one list of Debian packages kernellab needs, and a check/install of the missing ones.
set -euo pipefail

# build, test, benchmark (BLIS, OpenBLAS + Google Benchmark), profile (Massif), report, lessons,
# HTML checks; the grading sandbox (bubblewrap); grading a class on a cluster (Slurm and munge:
# scripts/cluster, scripts/grade --slurm). OpenMP comes with gcc (libgomp): no libomp package.
# kl_bench opens OpenBLAS's pthread build at run time (libopenblas0-pthread; -dev for cblas.h).
PACKAGES=(
  meson ninja-build gcc g++ pkg-config
  libblis-dev libbenchmark-dev libbenchmark-tools libopenblas0-pthread libopenblas-dev
  valgrind
  python3 python3-matplotlib python3-scipy python3-jsonschema python3-nbformat
  chromium
  bubblewrap
  slurmctld slurmd slurm-client munge
  zlib1g-dev dataset-fashion-mnist python3-torch
)

usage() {
  cat <<USAGE
usage: scripts/deps.sh [--check | --install | --list | --help]
  --check    list the missing packages; exit 1 if any is missing (default)
  --install  install the missing ones (apt-get, as root); when not root, print the
             exact sudo command and exit 1
  --list     print every package the project needs, one per line
USAGE
}

missing() { # the packages dpkg does not have installed, one per line
  local p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}\n' "$p" 2>/dev/null | grep -qx installed || echo "$p"
  done
}

mode=${1:---check}
[ $# -le 1 ] || { echo "deps.sh: one option at most (got: $*)" >&2; usage >&2; exit 2; }
case "$mode" in
  -h|--help) usage ;;
  --list) printf '%s\n' "${PACKAGES[@]}" ;;
  --check)
    mapfile -t need < <(missing)
    if [ ${#need[@]} -eq 0 ]; then echo "deps.sh: all ${#PACKAGES[@]} packages are installed"; exit 0; fi
    echo "deps.sh: missing: ${need[*]}"
    exit 1 ;;
  --install)
    command -v dpkg-query >/dev/null || { echo "deps.sh: needs Debian (dpkg-query not found)" >&2; exit 1; }
    mapfile -t need < <(missing)
    [ ${#need[@]} -eq 0 ] && { echo "deps.sh: all ${#PACKAGES[@]} packages are installed"; exit 0; }
    if [ "$(id -u)" -ne 0 ]; then
      echo "deps.sh: missing: ${need[*]}" >&2
      echo "deps.sh: run as root, or:" >&2
      echo "sudo apt-get install -y ${need[*]}"
      exit 1
    fi
    echo "deps.sh: installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q "${need[@]}" ;;
  *) echo "deps.sh: unknown option '$mode'" >&2; usage >&2; exit 2 ;;
esac
