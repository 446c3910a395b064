#!/usr/bin/env bash
# Installs kernellab into a throw-away prefix and builds examples/linear_relu.c against it
# with nothing but `pkg-config --cflags --libs kernellab`, as a researcher would.
set -euo pipefail
usage() { echo "usage: scripts/check_install.sh [--keep]   (builds, installs to a temp prefix, compiles and runs the example)"; }
keep=0
case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --keep) keep=1 ;;
  "") ;;
  *) usage >&2; exit 2 ;;
esac
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/kl-install.XXXXXX)
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
meson setup "$work/build" --prefix="$work/prefix" --buildtype=release -Dbench=disabled >/dev/null
ninja -C "$work/build" >/dev/null
meson install -C "$work/build" --quiet >/dev/null
pc=$(dirname "$(find "$work/prefix" -name kernellab.pc | head -n 1)")
export PKG_CONFIG_PATH="$pc"
flags=$(pkg-config --cflags --libs kernellab)
echo "pkg-config --cflags --libs kernellab: $flags"
cc -std=c11 -Wall -Wextra -Werror examples/linear_relu.c $flags -o "$work/linear_relu"
LD_LIBRARY_PATH="$(pkg-config --variable=libdir kernellab)" "$work/linear_relu"
