#!/bin/sh
# What the README says a new user does: install, then build the first program with
# `cc first.c $(pkg-config --cflags --libs lazuli)` and run it. The install goes to a temporary
# DESTDIR (the machine is left as it was); the library is found there through LD_LIBRARY_PATH.
# As root, a second install (temporary --prefix, LZ_LDCONFIG standing in for ldconfig) checks
# that installing into the live system refreshes the dynamic linker's cache.
# Usage: scripts/test-install.sh BUILD_DIR (a configured and built tree)
set -eu
build=$1
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

DESTDIR="$tmp/root" cmake --install "$build" >/dev/null
pc=$(find "$tmp/root" -name lazuli.pc | head -1)
[ -n "$pc" ] || { echo "no lazuli.pc installed"; exit 1; }
libdir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=libdir lazuli)
# the first program of README.md, exactly as written there
awk '/^## A first program/{f=1} f&&/^```c$/{c=1;next} c&&/^```$/{exit} c' "$here/README.md" > "$tmp/first.c"
grep -q "int main" "$tmp/first.c" || { echo "README has no first program"; exit 1; }
cd "$tmp"
PKG_CONFIG_PATH=$(dirname "$pc") sh -c 'cc first.c $(pkg-config --cflags --libs lazuli) -o first'
LD_LIBRARY_PATH="$libdir" ./first > out.txt
grep -q "array(\[\[2, 5, 10\]," out.txt || { echo "unexpected output:"; cat out.txt; exit 1; }
if [ "$(id -u)" = 0 ]; then
  LZ_LDCONFIG="touch $tmp/ldconfig-ran" cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
  [ -f "$tmp/ldconfig-ran" ] || { echo "make install as root did not run ldconfig"; exit 1; }
fi
echo "install test: ok"
