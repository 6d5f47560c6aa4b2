#!/bin/bash
#$ -N ss-split-2
#$ -S /bin/bash
#$ -t 1-1
#$ -pe smp 7
#$ -l h_rt=2:00:00
#$ -q batch
#$ -j y
#$ -o @WORK@/jobs/run-001/logs/

SS_TASK=${SGE_TASK_ID:-undefined}; [ "$SS_TASK" = undefined ] && SS_TASK=1
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=split-2
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/split-2.slides.nul" "$SS_TASK" || ss_finish 1
SS_SLIDE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" split "$SS_SLIDE"
ss_finish $?
