#!/bin/bash
#SBATCH --job-name=ss-stitch-0002
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=2048M
#SBATCH --time=2:00:00
#SBATCH --partition=batch
#SBATCH --output=@WORK@/jobs/run-001/logs/ss-stitch-0002-%j.out

SS_TASK=${SLURM_ARRAY_TASK_ID:-1}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=stitch-0002
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
ss_nth "$SS_JOBDIR/stores.nul" 2 || ss_finish 1
SS_STORE=$SS_ITEM
"$SS_BIN" task "$SS_JOBDIR/spec.json" stitch "$SS_STORE"
ss_finish $?
