#!/usr/bin/env bash
# slidescale CI: the team's tested recipe, kept as it is (knobs below); ci.sh
# starts both clusters with the lowered array limits the cluster tests need.
#
# stop-sge.sh - stop the single-node SGE cell started by start-sge.sh.
# Deletes all jobs, then stops sge_execd and sge_qmaster by their PID files.
# Safe to run when nothing runs.
#   --purge   also wipe the cell's spool/state (job database, configuration,
#             accounting), so the next start-sge.sh re-initialises it.
set -uo pipefail

export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
COMMON=$SGE_ROOT/$SGE_CELL/common
SPOOL=/var/spool/gridengine
QM_PID=$SPOOL/qmaster/qmaster.pid
EX_PID=/var/run/gridengine/execd.pid
PURGE=0
[ "${1:-}" = "--purge" ] && PURGE=1

log() { printf '[stop-sge %s] %s\n' "$(date +%T)" "$*" >&2; }
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}
stop_pidfile() {   # PIDFILE NAME MAXWAIT_S
  local pid i
  if ! pid_alive "$1" "$2"; then rm -f "$1"; return 0; fi
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for i in $(seq $(( ${3:-30} * 10 ))); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  if [ -d "/proc/$pid" ]; then log "$2 ($pid) ignored SIGTERM; SIGKILL"; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$1"
  log "stopped $2 (pid $pid)"
}

# 1. delete every job while qmaster and execd are still up (execd kills the shepherds)
if pid_alive "$QM_PID" sge_qmaster && [ -n "$(qstat -u '*' 2>/dev/null)" ]; then
  log "deleting all jobs"
  qdel -f -u '*' >/dev/null 2>&1 || true
  for i in $(seq 150); do [ -z "$(qstat -u '*' 2>/dev/null)" ] && break; sleep 0.1; done
fi

# 2. daemons, by PID file, in parallel (execd needs ~2 s, qmaster ~6-9 s to shut down)
stop_pidfile "$EX_PID" sge_execd 30 &
stop_pidfile "$QM_PID" sge_qmaster 60 &
wait

# 3. optional wipe of the cell state (start-sge.sh re-runs init_cluster)
if [ $PURGE = 1 ]; then
  rm -rf "$SPOOL/spooldb" "$SPOOL/qmaster" "$SPOOL/execd"/* "$COMMON/accounting" \
         "$COMMON/host_aliases" "$COMMON/act_qmaster" /tmp/sge-ci-config
  log "purged $SPOOL state and $COMMON/{accounting,host_aliases,act_qmaster}"
fi
exit 0
