#!/bin/bash
#SBATCH --job-name=ss-master
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
#SBATCH --mem=2048M
#SBATCH --time=2:00:00
#SBATCH --partition=batch
#SBATCH --output=@WORK@/jobs/run-001/logs/ss-master-%j.out

SS_TASK=${SLURM_ARRAY_TASK_ID:-1}
set -u
SS_JOBDIR=@WORK@/jobs/run-001
SS_KEY=master
. "$SS_JOBDIR/lib.sh" || exit 1
ss_begin
"$SS_BIN" plan "$SS_WORK" || ss_finish $?
"$SS_BIN" submit-groups "$SS_JOBDIR"
ss_finish $?
