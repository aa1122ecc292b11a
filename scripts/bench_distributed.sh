#!/usr/bin/env bash
# `make bench-distributed`: data-parallel training figures (docs/BENCHMARKS.md, "Distributed").
# W1 and W2 trained by examples/c/mpi_train at 1 process x 1 thread, 1 process x 2 threads and
# 2 processes x 1 thread (Open MPI on this machine, shared memory), with the time per step spent
# computing, all-reducing the gradient buffer and applying it; then the scaling model of
# scripts/scaling_model.py fed with the measured one-process step. Not a test: prints figures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v mpirun >/dev/null || { echo "bench-distributed: mpirun not found (scripts/setup.sh installs Open MPI)" >&2; exit 1; }
make -s -C examples/c AE_PREFIX="$PWD/build" mpi_train
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none \
    OMPI_MCA_rmaps_base_oversubscribe=1 OPENBLAS_NUM_THREADS=1
epochs=${EPOCHS:-3}
run() {  # run WORKLOAD BATCH SAMPLES RANKS THREADS
    mpirun -np "$4" --bind-to none examples/c/mpi_train --workload "$1" --batch "$2" --samples "$3" \
        --epochs "$epochs" --threads "$5" --bench | grep '^ranks'
}
printf '%-4s %-22s %s\n' workload configuration "figures per step (rank 0)"
w1=""
for spec in "w1 256 10240" "w2 64 2560"; do
    set -- $spec
    for config in "1 1" "1 2" "2 1"; do
        set -- $spec $config
        line=$(run "$1" "$2" "$3" "$4" "$5")
        printf '%-4s %d process(es) x %d thread(s): %s\n' "$1" "$4" "$5" "$line"
        [ "$1 $4 $5" = "w1 1 1" ] && w1=$line
    done
done
echo
compute=$(echo "$w1" | sed -E 's/.*: ([0-9.]+) ms compute.*/\1/')
apply=$(echo "$w1" | sed -E 's/.* ([0-9.]+) ms apply.*/\1/')
python3 scripts/scaling_model.py --compute-ms "$compute" --apply-ms "$apply" --gradient-floats 944176 --batch 256
