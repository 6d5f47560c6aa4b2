#!/usr/bin/env bash
# Evaluation speed and memory, slidescale vs the reference pipeline, same
# inputs, same invocation (issue 8, requirement 8). See README.md beside this.
#
#   bench/eval/run.sh [--reps-one 3] [--reps-400 1] [--cases one,400] [--data DIR]
#
# Needs GNU time at /usr/bin/time (Debian: `apt-get install time`), the
# repository's venv (scripts/setup.sh) and ../shared (the real outlines and
# the CAMELYON16 reference script). Inputs are made once into --data
# (default bench/out/eval, ~400 MB) and kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SHARED=${SLIDESCALE_SHARED:-$ROOT/../shared}
DATA=$ROOT/bench/out/eval
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data) DATA=$2; shift 2 ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
if [ ! -x /usr/bin/time ]; then
  echo "bench/eval: needs GNU time (/usr/bin/time): apt-get install time" >&2
  exit 1
fi
cargo build --release -q -p slidescale
export SLIDESCALE_SHARED=$SHARED
exec "$ROOT/.venv/bin/python" "$ROOT/bench/eval/run.py" \
  --slidescale "$ROOT/target/release/slidescale" \
  --reference "$ROOT/bench/eval/reference.py" \
  --make-cohort "$ROOT/crates/slidescale/tests/eval_support/make_cohort.py" \
  --data "$DATA" ${ARGS[@]+"${ARGS[@]}"}
