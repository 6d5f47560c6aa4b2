#!/bin/bash
#$ -N ss-process-0002-2
#$ -S /bin/bash
#$ -t 1-2
#$ -pe smp 7
#$ -l h_rt=2:00:00
#$ -q batch
#$ -j y
#$ -o @WORK@/jobs/run-001/logs/

SS_TASK=${SGE_TASK_ID:-undefined}; [ "$SS_TASK" = undefined ] && SS_TASK=1
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=process-0002-2
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 2 || ss_finish 1
SS_STORE=$SS_ITEM
ss_line "$SS_JOBDIR/process-0002-2.groups" "$SS_TASK" || ss_finish 1
SS_GROUP=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" process "$SS_STORE" "$SS_GROUP"
ss_finish $?
