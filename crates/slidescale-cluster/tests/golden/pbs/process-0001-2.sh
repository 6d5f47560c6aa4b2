#!/bin/bash
#PBS -N ss-process-0001-2
#PBS -l select=1:ncpus=7:mem=1254mb
#PBS -l walltime=2:00:00
#PBS -q batch
#PBS -j oe
#PBS -o @WORK@/jobs/run-001/logs/

SS_TASK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-1}}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=process-0001-2
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 1 || ss_finish 1
SS_STORE=$SS_ITEM
ss_line "$SS_JOBDIR/process-0001-2.groups" "$SS_TASK" || ss_finish 1
SS_GROUP=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" process "$SS_STORE" "$SS_GROUP"
ss_finish $?
