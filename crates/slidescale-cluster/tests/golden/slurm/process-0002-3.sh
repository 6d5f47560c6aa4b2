#!/bin/bash
#SBATCH --job-name=ss-process-0002-3
#SBATCH --array=1-1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=7
#SBATCH --mem=1254M
#SBATCH --time=2:00:00
#SBATCH --partition=batch
#SBATCH --output=@WORK@/jobs/run-001/logs/ss-process-0002-3-%A_%a.out

SS_TASK=${SLURM_ARRAY_TASK_ID:-1}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=process-0002-3
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 2 || ss_finish 1
SS_STORE=$SS_ITEM
ss_line "$SS_JOBDIR/process-0002-3.groups" "$SS_TASK" || ss_finish 1
SS_GROUP=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" process "$SS_STORE" "$SS_GROUP"
ss_finish $?
