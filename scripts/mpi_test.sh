#!/bin/sh
# Runs a test program on N processes of this machine with Open MPI's mpirun, as the CTest
# tests test_distributed_mpi_N do: scripts/mpi_test.sh N program [args...]
# Exits 77 (a skipped test) when mpirun is missing. A timeout ends a job that would hang.
set -u
np=$1
shift
if ! command -v mpirun >/dev/null 2>&1; then
  echo "skipped: MPI not installed"
  exit 77
fi
# Root inside a container, no network but loopback, shared memory without CMA.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_plm=isolated OMPI_MCA_pml=ob1
export OMPI_MCA_osc=^ucx OMPI_MCA_btl_base_warn_component_unused=0
# Open MPI keeps memory until exit by design: LeakSanitizer (ASan builds) would report it, so it
# is off for these runs; Lazuli's own leaks are caught by the single-process run of each test
# and by the harness's check that no array memory stays live.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
exec timeout -k 10 "${LZ_MPI_TIMEOUT:-180}" mpirun --allow-run-as-root --oversubscribe \
  --bind-to none -np "$np" "$@"
