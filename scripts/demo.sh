#!/bin/sh
# Runs the demo from a build directory (default build/release): the Fashion-MNIST classifier
# when it is built, else the quick-start example. Extra arguments go to the demo program.
set -eu
dir="${1:-build/release}"
[ $# -gt 0 ] && shift
if [ -x "$dir/examples/mnist" ]; then
  exec "$dir/examples/mnist" "$@"
fi
exec "$dir/examples/quickstart" "$@"
