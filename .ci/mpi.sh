#!/usr/bin/env bash
# `--mpi` end to end: installs Debian's OpenMPI and libclang (the mpi crate's
# bindings are generated with bindgen), builds fleksim with the `mpi` feature
# (into target/release, reusing the dependencies already built there), and
# checks that the shipped DS comparison under `mpirun -np 1, 2, 3` writes the
# same bytes as one process without MPI (and uncertainty and verify on 3 ranks).
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
if ! command -v mpirun >/dev/null || ! command -v mpicc >/dev/null \
    || ! ls /usr/lib/llvm-*/lib/libclang.so >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libopenmpi-dev openmpi-bin libclang-dev pkg-config >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmd=(compare scenarios/baseline.toml scenarios/proposals/ds.toml --scale 0.02 -n 3 --quiet)

# The reference: the default build (no MPI), one process.
cargo build --locked --quiet --release
./target/release/fleksim "${cmd[@]}" --out "$work/one"

cargo build --locked --quiet --release --features mpi
cargo clippy --locked --quiet --release --features mpi -- -D warnings
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for np in 1 2 3; do
    mpirun --allow-run-as-root --oversubscribe -np "$np" \
        ./target/release/fleksim "${cmd[@]}" --mpi --out "$work/np$np"
    cmp "$work/one/compare.csv" "$work/np$np/compare.csv"
    echo "mpi: $np ranks equal one process byte for byte"
done

# The sweep family splits points over the ranks.
ucmd=(uncertainty scenarios/proposals/ds.toml --draws 4 --scale 0.02 -n 2 --quiet)
./target/release/fleksim "${ucmd[@]}" --out "$work/u1"
mpirun --allow-run-as-root --oversubscribe -np 3 ./target/release/fleksim "${ucmd[@]}" --mpi --out "$work/u3"
for f in uncertainty.csv uncertainty-summary.csv uncertainty-drivers.csv; do
    cmp "$work/u1/$f" "$work/u3/$f"
done
echo "mpi: uncertainty on 3 ranks equals one process byte for byte"

# verify's replications are integer counts: rank 0 folds the ranks' counts and
# exits as one process does (3 if a test fails).
vcmd=(verify --scale 0.02 -n 6 --quarters 8)
v1=0; ./target/release/fleksim "${vcmd[@]}" --out "$work/v1" >/dev/null || v1=$?
v3=0; mpirun --allow-run-as-root --oversubscribe -np 3 ./target/release/fleksim "${vcmd[@]}" --mpi --out "$work/v3" >/dev/null || v3=$?
test "$v1" = "$v3"
cmp "$work/v1/verify.csv" "$work/v3/verify.csv"
echo "mpi: verify on 3 ranks equals one process byte for byte (exit status $v1)"

# Leave target/release/fleksim as the default build for later steps.
cargo build --locked --quiet --release
