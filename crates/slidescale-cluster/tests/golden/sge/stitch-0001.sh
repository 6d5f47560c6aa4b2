#!/bin/bash
#$ -N ss-stitch-0001
#$ -S /bin/bash
#$ -l h_rt=2:00:00
#$ -q batch
#$ -j y
#$ -o @WORK@/jobs/run-001/logs/

SS_TASK=${SGE_TASK_ID:-undefined}; [ "$SS_TASK" = undefined ] && SS_TASK=1
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=stitch-0001
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 1 || ss_finish 1
SS_STORE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" stitch "$SS_STORE"
ss_finish $?
