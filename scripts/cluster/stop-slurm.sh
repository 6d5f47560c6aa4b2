#!/usr/bin/env bash
# slidescale CI: the team's tested recipe, kept as it is (knobs below); ci.sh
# starts both clusters with the lowered array limits the cluster tests need.
#
# stop-slurm.sh - stop the single-node Slurm cluster started by start-slurm.sh.
# Cancels all jobs, then stops slurmd, slurmctld and (only if start-slurm.sh
# started it) munged, each by its PID file.  Safe to run when nothing runs.
#   --purge   also delete all Slurm state ($SLURM_CI_DIR, incl. the accounting
#             database) and /etc/slurm/slurm.conf, slurmdbd.conf
set -uo pipefail

DIR=${SLURM_CI_DIR:-/tmp/slurm-ci}
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

log() { printf '[stop-slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}
stop_pidfile() {
  local pid i
  if ! pid_alive "$1" "$2"; then rm -f "$1"; return 0; fi
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 200); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then log "$2 ($pid) ignored SIGTERM for 20 s; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$1"
  log "stopped $2 (pid $pid)"
}

# 1. cancel every job while the controller is still up, give them 15 s to end
if pid_alive "$DIR/run/slurmctld.pid" slurmctld && command -v squeue >/dev/null; then
  jobs=$(squeue -h -o '%F' 2>/dev/null | sort -u | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    scancel $jobs 2>/dev/null || true
    for i in $(seq 150); do [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break; sleep 0.1; done
  fi
fi

# 2. daemons, by PID file (slurmd and slurmctld each take ~2 s to exit: stop them in parallel)
stop_pidfile "$DIR/run/slurmd.pid" slurmd &
stop_pidfile "$DIR/run/slurmctld.pid" slurmctld &
wait
stop_pidfile "$DIR/run/slurmdbd.pid" slurmdbd          # only with SLURM_CI_ACCOUNTING=1
stop_pidfile "$DIR/mysql-run/mariadb.pid" mariadbd     # only if start-slurm.sh started MariaDB
stop_pidfile "$DIR/munge/munged.pid" munged            # only if start-slurm.sh started munged

# 3. optional wipe
if [ $PURGE = 1 ]; then
  rm -rf "$DIR" /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf
  log "purged $DIR and /etc/slurm/slurm{,dbd}.conf"
fi
exit 0
