#!/bin/sh
# Runs a test program on N processes of this machine with Open MPI's mpirun, as the CTest
# tests test_distributed_mpi_N do: scripts/mpi_test.sh N program [args...]
# Exits 77 (a skipped test) when mpirun is missing. A timeout ends a job that would hang.
# LZ_MPI_EXPECT=abort: the job must fail, ended by MPI (not by the timeout) within it;
# LZ_MPI_EXPECT=timeout: the job must hang until the timeout (LZ_MPI_TIMEOUT seconds) ends it.
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
# Ranks share the cores (with each other and with other jobs): a rank waiting in a collective
# yields instead of spinning, and each rank runs one compute thread unless told otherwise.
export OMPI_MCA_mpi_yield_when_idle=1 LZ_NUM_THREADS="${LZ_NUM_THREADS:-1}"
# Open MPI keeps memory until exit by design: LeakSanitizer (ASan builds) would report it, so it
# is off for these runs; Lazuli's own leaks are caught by the single-process run of each test
# and by the harness's check that no array memory stays live.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
limit=${LZ_MPI_TIMEOUT:-180}
start=$(date +%s)
timeout -k 10 "$limit" mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$np" "$@"
rc=$?
took=$(($(date +%s) - start))
case "${LZ_MPI_EXPECT:-}" in
abort)
  # timeout(1) exits 124, or 137 after its KILL; mpirun exits 137 too when a rank was killed.
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$took" -lt "$limit" ]; then
    echo "the job was ended by MPI (exit $rc) after ${took}s, as expected"
    exit 0
  fi
  echo "expected MPI to end the job before the ${limit}s timeout; exit $rc after ${took}s"
  exit 1 ;;
timeout)
  if [ "$rc" -eq 124 ] || { [ "$rc" -eq 137 ] && [ "$took" -ge "$limit" ]; }; then
    echo "the job hung until the launcher's ${limit}s timeout ended it, as expected"
    exit 0
  fi
  echo "expected the launcher's timeout to end the job; exit $rc after ${took}s"
  exit 1 ;;
esac
exit $rc
