#!/bin/bash
#PBS -N ss-master
#PBS -l select=1:ncpus=1:mem=2048mb
#PBS -l walltime=2:00:00
#PBS -q batch
#PBS -j oe
#PBS -o @WORK@/jobs/run-001/logs/

SS_TASK=${PBS_ARRAY_INDEX:-${PBS_ARRAYID:-1}}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=master
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
"$SS_BIN" plan "$SS_WORK" || ss_finish $?
"$SS_BIN" submit-groups "$SS_JOBDIR"
ss_finish $?
