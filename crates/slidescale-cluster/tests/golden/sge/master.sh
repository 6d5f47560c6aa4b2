#!/bin/bash
#$ -N ss-master
#$ -S /bin/bash
#$ -l h_rt=2:00:00
#$ -q batch
#$ -j y
#$ -o @WORK@/jobs/run-001/logs/

SS_TASK=${SGE_TASK_ID:-undefined}; [ "$SS_TASK" = undefined ] && SS_TASK=1
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=master
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
"$SS_BIN" plan "$SS_WORK" || ss_finish $?
"$SS_BIN" submit-groups "$SS_JOBDIR"
ss_finish $?
