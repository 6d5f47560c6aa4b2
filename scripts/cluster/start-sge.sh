#!/usr/bin/env bash
# slidescale CI: the team's tested recipe, kept as it is (knobs below); ci.sh
# starts both clusters with the lowered array limits the cluster tests need.
#
# start-sge.sh - install, configure and start a single-node Son of Grid Engine
# 8.1.9 cell on this machine (Debian 12 "bookworm", run as root, no systemd
# needed), then wait until it accepts jobs.  Idempotent: re-running it while
# the cell is up only re-applies the configuration and re-checks it.
# Stop with stop-sge.sh (add --purge to wipe the cell so the next start
# re-initialises it from scratch).
#
# Everything uses the Debian layout: SGE_ROOT=/var/lib/gridengine, cell
# "default", spool /var/spool/gridengine.  The qsub/qstat/... wrappers in
# /usr/bin read /etc/default/gridengine, so no environment is needed.
# All host names are folded onto the single name "localhost" via
# $SGE_ROOT/default/common/host_aliases (see REPORT.md, "hostname gotcha").
#
# Knobs (environment variables):
#   SGE_CI_SLOTS        slots of queue all.q (default: nproc; may exceed it)
#   SGE_CI_MAX_AJ_TASKS global max_aj_tasks, max tasks in one array (default 75000 = SGE default)
#   SGE_CI_TIMEOUT      seconds to wait for readiness (default 90)
#   SGE_CI_SMOKE        1 = run a trivial job before returning (default 1)
set -euo pipefail

SLOTS=${SGE_CI_SLOTS:-$(nproc)}
MAX_AJ_TASKS=${SGE_CI_MAX_AJ_TASKS:-75000}
TIMEOUT=${SGE_CI_TIMEOUT:-90}
SMOKE=${SGE_CI_SMOKE:-1}
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
COMMON=$SGE_ROOT/$SGE_CELL/common
SPOOL=/var/spool/gridengine
QM_PID=$SPOOL/qmaster/qmaster.pid          # sge_qmaster always writes its pid here
EX_PID=/var/run/gridengine/execd.pid       # we point sge_execd here via SGE_EXECD_PIDFILE
HOST=localhost
WORK=/tmp/sge-ci-config

log() { printf '[start-sge %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# run a qconf command quietly (it reports success on stderr); show output only on failure
q() { local out; out=$("$@" 2>&1) || { printf '%s\n' "$out" >&2; die "failed: $*"; }; }
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}

[ "$(id -u)" = 0 ] || die "must run as root"

# ---------------------------------------------------------------- 1. install
if ! [ -x /usr/lib/gridengine/sge_qmaster ] || ! [ -x /usr/lib/gridengine/sge_execd ] || ! [ -x /usr/lib/gridengine/qsub ]; then
  log "installing gridengine-master gridengine-exec gridengine-client"
  export DEBIAN_FRONTEND=noninteractive
  # Answer the debconf questions up front: let the package create the cell,
  # named "default", with master "localhost" (written to act_qmaster).
  debconf-set-selections <<EOF
gridengine-common shared/gridengineconfig boolean true
gridengine-common shared/gridenginecell string default
gridengine-common shared/gridenginemaster string $HOST
EOF
  # gridengine-master's postinst runs "invoke-rc.d gridengine-master start || exit 1";
  # without an init system that start can fail and abort the install. A policy-rc.d
  # that returns 101 makes invoke-rc.d skip the start (exit 0). Docker images ship one.
  POLICY_CREATED=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; POLICY_CREATED=1
  fi
  APT=(apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
  # keep repository addresses out of the log file
  mask_urls() { sed -E 's#[a-z]+://[^ ]+#<repo>#g; s#([A-Za-z0-9-]+\.)+(org|com|net|io|dev)([/_:][^ ]*)?#<repo>#g'; }
  PKGS=(gridengine-master gridengine-exec gridengine-client)
  if ! "${APT[@]}" install "${PKGS[@]}" 2>&1 | mask_urls >/tmp/start-sge-apt.log; then
    apt-get -o DPkg::Lock::Timeout=600 -q update 2>&1 | mask_urls >>/tmp/start-sge-apt.log || true
    "${APT[@]}" install "${PKGS[@]}" 2>&1 | mask_urls >>/tmp/start-sge-apt.log \
      || { [ $POLICY_CREATED = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -20 /tmp/start-sge-apt.log; die "apt-get install failed"; }
  fi
  [ $POLICY_CREATED = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "installed ($(elapsed)s)"
fi
id sgeadmin >/dev/null 2>&1 || die "user sgeadmin missing (gridengine-common postinst should create it)"

# ---------------------------------------------------------------- 2. host names
# SGE's commlib rejects a client whose own idea of its name differs from the
# name its IP reverse-resolves to ("client IP resolved to host name localhost.
# This is not identical to clients host name vm").  On this machine hostname
# "vm" -> 127.0.0.1 -> "localhost".  Fold every local name onto "localhost".
HN=$(hostname)
if ! getent hosts "$HN" >/dev/null 2>&1; then
  log "hostname $HN does not resolve; adding it to /etc/hosts"
  [ -z "$(tail -c1 /etc/hosts)" ] || echo >> /etc/hosts
  echo "127.0.0.1 $HN" >> /etc/hosts
fi
names=$( { echo "$HN"; hostname -s 2>/dev/null; hostname -f 2>/dev/null;
           getent hosts "$HN" | awk '{for(i=2;i<=NF;i++)print $i}';
           getent hosts 127.0.0.1 | awk '{for(i=2;i<=NF;i++)print $i}'; } \
         | grep -v -x -e localhost -e '' | sort -u | tr '\n' ' ')
mkdir -p "$COMMON"
ALIASES="$HOST ${names% }"
if [ "$(cat "$COMMON/host_aliases" 2>/dev/null)" != "$ALIASES" ]; then
  echo "$ALIASES" > "$COMMON/host_aliases"
  log "host_aliases: $ALIASES"
fi
[ "$(cat "$COMMON/act_qmaster" 2>/dev/null)" = "$HOST" ] || echo "$HOST" > "$COMMON/act_qmaster"
chown sgeadmin:sgeadmin "$COMMON" "$COMMON/act_qmaster" "$COMMON/host_aliases"

# ---------------------------------------------------------------- 3. cell (re)initialisation
for d in "$SPOOL" ; do install -d -m 755 "$d"; done
for d in "$SPOOL/qmaster" "$SPOOL/qmaster/job_scripts" "$SPOOL/spooldb" "$SPOOL/execd" /var/run/gridengine; do
  install -d -o sgeadmin -g sgeadmin -m 755 "$d"
done
[ -s "$COMMON/bootstrap" ] || install -m 644 -o sgeadmin -g sgeadmin /usr/share/gridengine/default-bootstrap "$COMMON/bootstrap"
if [ ! -e "$SPOOL/spooldb/sge" ]; then
  log "initialising cell (init_cluster)"
  su -s /bin/sh -c "/usr/share/gridengine/scripts/init_cluster $SGE_ROOT $SGE_CELL $SPOOL/spooldb sgeadmin" sgeadmin >/dev/null \
    || die "init_cluster failed"
fi

# ---------------------------------------------------------------- 4. qmaster
if ! pid_alive "$QM_PID" sge_qmaster; then
  rm -f "$QM_PID" "$SPOOL/qmaster/lock"
  /usr/sbin/sge_qmaster || die "sge_qmaster failed; see $SPOOL/qmaster/messages"
  log "sge_qmaster started"
fi
deadline=$(( $(date +%s) + TIMEOUT ))
until qconf -sh >/dev/null 2>&1; do
  [ "$(date +%s)" -lt "$deadline" ] || { tail -20 "$SPOOL/qmaster/messages" >&2; qconf -sh >&2; die "qmaster not answering after ${TIMEOUT}s"; }
  sleep 0.2
done
log "qmaster answering ($(elapsed)s)"

# ---------------------------------------------------------------- 5. configuration (idempotent)
rm -rf "$WORK"; mkdir -p "$WORK"
# global: allow root jobs (min_uid/min_gid default 1000 rejects uid 0), array limit
qconf -sconf global | sed -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
  -e "s/^max_aj_tasks .*/max_aj_tasks $MAX_AJ_TASKS/" > "$WORK/global"
q qconf -Mconf "$WORK/global"
# scheduler: run every second and right after submit/finish (default 15 s)
qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
  -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' \
  -e 's/^job_load_adjustments .*/job_load_adjustments NONE/' > "$WORK/sconf"
q qconf -Msconf "$WORK/sconf"
# admin + submit host, exec host
qconf -sh 2>/dev/null | grep -qx "$HOST" || q qconf -ah "$HOST"
qconf -ss 2>/dev/null | grep -qx "$HOST" || q qconf -as "$HOST"
cat > "$WORK/host" <<EOF
hostname              $HOST
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
EOF
if qconf -se "$HOST" >/dev/null 2>&1; then q qconf -Me "$WORK/host"; else q qconf -Ae "$WORK/host"; fi
# parallel environment "smp" for multi-slot jobs (qsub -pe smp N)
cat > "$WORK/smp" <<'EOF'
pe_name            smp
slots              9999
user_lists         NONE
xuser_lists        NONE
start_proc_args    NONE
stop_proc_args     NONE
allocation_rule    $pe_slots
control_slaves     FALSE
job_is_first_task  TRUE
urgency_slots      min
accounting_summary FALSE
qsort_args         NONE
EOF
if qconf -sp smp >/dev/null 2>&1; then q qconf -Mp "$WORK/smp"; else q qconf -Ap "$WORK/smp"; fi
# queue all.q: bash, honour #! lines, no load thresholds (a busy 2-core CI box would alarm)
qconf -sq | sed -e 's/^qname .*/qname all.q/' -e "s/^hostlist .*/hostlist $HOST/" \
  -e 's/^load_thresholds .*/load_thresholds NONE/' -e 's/^pe_list .*/pe_list smp/' \
  -e "s/^slots .*/slots $SLOTS/" -e 's#^shell .*#shell /bin/bash#' \
  -e 's/^shell_start_mode .*/shell_start_mode unix_behavior/' > "$WORK/allq"
if qconf -sq all.q >/dev/null 2>&1; then q qconf -Mq "$WORK/allq"; else q qconf -Aq "$WORK/allq"; fi
log "configured: all.q@$HOST with $SLOTS slots"

# ---------------------------------------------------------------- 6. execd
if ! pid_alive "$EX_PID" sge_execd; then
  rm -f "$EX_PID"
  SGE_EXECD_PIDFILE=$EX_PID /usr/sbin/sge_execd || die "sge_execd failed; see $SPOOL/execd/$HOST/messages"
  log "sge_execd started"
fi

# ---------------------------------------------------------------- 7. wait until ready
# queue instance must have left state "u" (unknown: execd not yet registered)
while :; do
  st=$(qstat -f -q "all.q@$HOST" 2>/dev/null | awk -v q="all.q@$HOST" '$1==q{print ($6==""?"ok":$6)}')
  [ "$st" = ok ] && break
  case "$st" in *E*) qmod -c "all.q@$HOST" >/dev/null 2>&1 || true ;; esac   # clear error state
  case "$st" in *d*) qmod -e "all.q@$HOST" >/dev/null 2>&1 || true ;; esac   # enable
  [ "$(date +%s)" -lt "$deadline" ] || { qstat -f >&2; tail -20 "$SPOOL/execd/$HOST/messages" >&2 || true; die "queue not ready after ${TIMEOUT}s (state '$st')"; }
  sleep 0.2
done
log "all.q@$HOST ready ($(elapsed)s)"

if [ "$SMOKE" = 1 ]; then
  jid=$(echo true | qsub -terse -N ci-smoke -o /dev/null -e /dev/null) || die "qsub failed"
  while qstat -j "$jid" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "smoke job $jid not done after ${TIMEOUT}s"
    sleep 0.1
  done
  log "smoke job ran ($(elapsed)s)"
fi
log "SGE ready in $(elapsed)s: qsub/qstat/qconf work from any shell; logs $SPOOL/qmaster/messages, $SPOOL/execd/$HOST/messages"
