#!/usr/bin/env bash
# slidescale's fault suite (issue 7, requirement 9): seeded kill, corruption,
# full-disk, race and foreign-file trials against the release binary, each
# compared with one uninterrupted reference run. See bench/faults/README.md.
#
# usage: bench/faults/run.sh [--trials 100] [--seed S] [--kinds kill,corrupt,diskfull,race,ownership]
#                            [--only I] [--keep] [--out DIR]
# Last line: "N passed, M failed"; exit 1 when a trial failed, 2 when the suite cannot run.
set -euo pipefail
cd "$(dirname "$0")/../.."
# Always through cargo, so the suite never tests a stale binary (a no-op when
# fresh) -- unless --binary names one the caller has just built (CI passes the
# binary `cargo test` built, which saves a release build of the workspace).
case " $* " in
  *" --binary "*) ;;
  *) cargo build --release -q -p slidescale --bin slidescale ;;
esac
exec "${SLIDESCALE_PYTHON:-.venv/bin/python}" bench/faults/faults.py "$@"
