#!/bin/bash
#PBS -N ss-split-2
#PBS -l select=1:ncpus=7:mem=1254mb
#PBS -l walltime=2:00:00
#PBS -q batch
#PBS -j oe
#PBS -o @WORK@/jobs/run-001/logs/

SS_TASK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-1}}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=split-2
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/split-2.slides.nul" "$SS_TASK" || ss_finish 1
SS_SLIDE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" split "$SS_SLIDE"
ss_finish $?
