#!/usr/bin/env bash
# The README's test command: install what the tests need (scripts/setup.sh),
# start the single-node SLURM and SGE clusters the cluster tests submit to
# (scripts/cluster/ci.sh --start; needs root), check formatting and lints,
# and run every test of the workspace, the tract engine's included. The
# clusters it started are stopped again when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
step() { printf '\n==> %s (%s)\n' "$*" "$(date +%T)" >&2; }

# pid_alive PIDFILE NAME: the file names a live process called NAME (the
# check the cluster scripts make).
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
slurm_running() { pid_alive "${SLURM_CI_DIR:-/tmp/slurm-ci}/run/slurmctld.pid" slurmctld; }
sge_running() { pid_alive /var/spool/gridengine/qmaster/qmaster.pid sge_qmaster; }

# The clusters this run starts are stopped when it ends, however it ends
# (scripts/cluster/ci.sh --stop does both; a cluster that was already
# running before this run is someone's and is left alone).
started=()
stop_started() {
  local c
  for c in "${started[@]}"; do
    step "stop the $c cluster this run started"
    "scripts/cluster/stop-$c.sh" || true
  done
}
trap stop_started EXIT

step "setup"
scripts/setup.sh
if [ "$(id -u)" = 0 ]; then
  step "start single-node SLURM and SGE"
  slurm_running || started+=(slurm)
  sge_running || started+=(sge)
  scripts/cluster/ci.sh --start
else
  echo "note: not root, so SLURM and SGE are not started; the cluster tests will fail" >&2
fi

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test --workspace"
cargo test --workspace
# The fault suite at a small count (bench/faults/README.md), against the
# binary `cargo test` has just built and tested (a release build of the
# workspace would add minutes and test the same code). One step: delete it, or
# run with SLIDESCALE_FAULTS=0, to leave it out.
if [ "${SLIDESCALE_FAULTS:-1}" != 0 ]; then
  step "fault suite: bench/faults/run.sh --trials 12 --seed 1 --binary target/debug/slidescale"
  bench/faults/run.sh --trials 12 --seed 1 --binary target/debug/slidescale
fi
# Only the tests the feature changes: the other slidescale-infer tests run on
# ONNX Runtime alone and have run above.
step "tract engine (cargo feature tract)"
cargo test -p slidescale-infer --features tract --lib --test tract --test missing_library
step "all tests passed"
