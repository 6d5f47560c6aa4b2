#!/bin/bash
#PBS -N ss-stitch-0002
#PBS -l select=1:ncpus=1:mem=2048mb
#PBS -l walltime=2:00:00
#PBS -q batch
#PBS -j oe
#PBS -o @WORK@/jobs/run-001/logs/

SS_TASK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-1}}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=stitch-0002
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 2 || ss_finish 1
SS_STORE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" stitch "$SS_STORE"
ss_finish $?
