#!/bin/sh
# The data-parallel run equals one process's: `mnist --distributed` on 2 ranks under mpirun and
# `mnist` alone train one epoch of 20 global batches of 64 from the same initial weights; the
# losses (global on rank 0) must agree to float tolerance and the test accuracies (each rank
# scores its shard, the counts summed over the group) to one image in the 214.
#   test_distributed.sh MNIST_EXE MPI_TEST_SH
set -u
exe=$1 mpi=$2
args="--subset 1280 --batch 64 --epochs 1 --steps 20 --lr 0.05"
one=$("$exe" $args) || { echo "$one"; echo "one process failed"; exit 1; }
two=$(sh "$mpi" 2 "$exe" --distributed $args)
rc=$?
[ "$rc" -eq 77 ] && { echo "$two"; exit 77; }
[ "$rc" -eq 0 ] || { echo "$two"; echo "the mpirun job failed (exit $rc)"; exit 1; }
printf '%s\n--- 2 processes:\n%s\n' "$one" "$two"
pick() { # the loss after the steps and the test accuracy of the epoch line
  printf '%s\n' "$1" | sed -n 's/^loss after 20 steps: \([0-9.]*\).*/\1/p'
  printf '%s\n' "$1" | sed -n 's/.*test acc \([0-9.]*\)%.*/\1/p'
}
set -- $(pick "$one") $(pick "$two")
[ $# -eq 4 ] || { echo "missing loss or accuracy lines"; exit 1; }
awk -v l1="$1" -v a1="$2" -v l2="$3" -v a2="$4" 'BEGIN {
  dl = l1 - l2; if (dl < 0) dl = -dl
  da = a1 - a2; if (da < 0) da = -da
  if (dl > 1e-4 * (l1 < 0 ? -l1 : l1) + 1e-6 || da > 0.5) {
    printf "differ: loss %s vs %s, test accuracy %s%% vs %s%%\n", l1, l2, a1, a2; exit 1 }
  printf "agree: loss %s vs %s, test accuracy %s%% vs %s%%\n", l1, l2, a1, a2 }'
