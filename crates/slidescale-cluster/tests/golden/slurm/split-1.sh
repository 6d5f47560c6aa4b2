#!/bin/bash
#SBATCH --job-name=ss-split-1
#SBATCH --array=1-2
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=7
#SBATCH --mem=1254M
#SBATCH --time=2:00:00
#SBATCH --partition=batch
#SBATCH --output=@WORK@/jobs/run-001/logs/ss-split-1-%A_%a.out

SS_TASK=${SLURM_ARRAY_TASK_ID:-1}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=split-1
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/split-1.slides.nul" "$SS_TASK" || ss_finish 1
SS_SLIDE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" split "$SS_SLIDE"
ss_finish $?
