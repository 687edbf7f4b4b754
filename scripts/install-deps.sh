#!/bin/sh
# Installs the Debian packages Lazuli needs to build, test and run its demo.
# Only packages that are missing are installed; a machine that has them all is left alone.
# Usage: scripts/install-deps.sh [--bench]   (--bench adds PyTorch for bench-compare)
set -eu

pkgs="cmake make gcc clang pkg-config libopenblas-dev liblapacke-dev libsleef-dev \
libdnnl-dev zlib1g-dev libfftw3-dev libclang-rt-14-dev dataset-fashion-mnist fortunes \
python3-dev python3-numpy python3-pytest python3-setuptools openmpi-bin libopenmpi-dev"
if [ "${1:-}" = "--bench" ]; then
  pkgs="$pkgs python3-torch"
fi

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != "0" ]; then
  echo "install-deps: missing Debian packages:$missing" >&2
  echo "install-deps: run as root, or: sudo apt-get install$missing" >&2
  exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
