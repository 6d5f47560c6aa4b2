#!/usr/bin/env bash
# slidescale CI: the team's tested recipe, kept as it is (knobs below); ci.sh
# starts both clusters with the lowered array limits the cluster tests need.
#
# start-slurm.sh - install, configure and start a single-node Slurm cluster on
# this machine (Debian 12 "bookworm", run as root, no systemd needed), then wait
# until it accepts jobs.  Idempotent: running it again while the cluster is up
# only re-checks it (daemons are restarted only if the generated slurm.conf
# changed).  Stop with stop-slurm.sh (add --purge to wipe all state).
#
# Knobs (environment variables):
#   SLURM_CI_DIR             state/spool/log/pid directory   (default /tmp/slurm-ci)
#   SLURM_CI_AUTH            munge | none                   (default munge)
#   SLURM_CI_CPUS            CPUs advertised for the node   (default: nproc; may be
#                            larger than nproc to oversubscribe, e.g. 8)
#   SLURM_CI_MAX_ARRAY_SIZE  slurm.conf MaxArraySize        (default 1001 = Slurm default,
#                            i.e. highest array index 1000)
#   SLURM_CI_MAX_JOB_COUNT   slurm.conf MaxJobCount         (default 10000 = Slurm default;
#                            must exceed the number of tasks of the largest array)
#   SLURM_CI_TIMEOUT         seconds to wait for readiness  (default 60)
#   SLURM_CI_SMOKE           1 = run a trivial job before returning (default 1)
#   SLURM_CI_ACCOUNTING      1 = also install/start MariaDB + slurmdbd so that sacct
#                            works (adds ~30 s install, a few s start); default 0
set -euo pipefail

DIR=${SLURM_CI_DIR:-/tmp/slurm-ci}
AUTH=${SLURM_CI_AUTH:-munge}
CPUS=${SLURM_CI_CPUS:-$(nproc)}
MAX_ARRAY=${SLURM_CI_MAX_ARRAY_SIZE:-1001}
MAX_JOBS=${SLURM_CI_MAX_JOB_COUNT:-10000}
TIMEOUT=${SLURM_CI_TIMEOUT:-60}
SMOKE=${SLURM_CI_SMOKE:-1}
ACCT=${SLURM_CI_ACCOUNTING:-0}
CONF=/etc/slurm/slurm.conf
DBDCONF=/etc/slurm/slurmdbd.conf
MYSOCK=/run/mysqld/mysqld.sock   # slurmdbd has no socket option: StorageHost=localhost uses this

log() { printf '[start-slurm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
T0=$(date +%s.%N)
elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

[ "$(id -u)" = 0 ] || die "must run as root"
case "$AUTH" in munge|none) ;; *) die "SLURM_CI_AUTH must be munge or none" ;; esac

# pid_alive PIDFILE NAME -> true if PIDFILE names a live process whose comm is NAME
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ]
}
# stop_pidfile PIDFILE NAME -> SIGTERM, wait up to 20 s, then SIGKILL
stop_pidfile() {
  local pid i
  pid_alive "$1" "$2" || { rm -f "$1"; return 0; }
  pid=$(cat "$1")
  kill "$pid" 2>/dev/null || true
  for i in $(seq 200); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  [ -d "/proc/$pid" ] && kill -9 "$pid" 2>/dev/null || true
  rm -f "$1"
}

# ---------------------------------------------------------------- 1. install
need_pkgs=()
command -v slurmctld >/dev/null 2>&1 || need_pkgs+=(slurmctld)
command -v slurmd    >/dev/null 2>&1 || need_pkgs+=(slurmd)
command -v sbatch    >/dev/null 2>&1 || need_pkgs+=(slurm-client)
if [ "$AUTH" = munge ] && ! command -v munged >/dev/null 2>&1; then need_pkgs+=(munge); fi
PKGS=(slurm-wlm munge)
if [ "$ACCT" = 1 ]; then
  [ "$AUTH" = munge ] || die "SLURM_CI_ACCOUNTING=1 needs SLURM_CI_AUTH=munge"
  command -v slurmdbd >/dev/null 2>&1 || need_pkgs+=(slurmdbd)
  command -v mariadbd >/dev/null 2>&1 || need_pkgs+=(mariadb-server)
  PKGS+=(slurmdbd mariadb-server)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${PKGS[*]} (missing: ${need_pkgs[*]})"
  export DEBIAN_FRONTEND=noninteractive
  # Keep package postinst scripts from trying to start the daemons (no init system here).
  POLICY_CREATED=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; POLICY_CREATED=1
  fi
  APT=(apt-get -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends)
  # keep repository addresses out of the log file
  mask_urls() { sed -E 's#[a-z]+://[^ ]+#<repo>#g; s#([A-Za-z0-9-]+\.)+(org|com|net|io|dev)([/_:][^ ]*)?#<repo>#g'; }
  if ! "${APT[@]}" install "${PKGS[@]}" 2>&1 | mask_urls >/tmp/start-slurm-apt.log; then
    apt-get -o DPkg::Lock::Timeout=600 -q update 2>&1 | mask_urls >>/tmp/start-slurm-apt.log || true
    "${APT[@]}" install "${PKGS[@]}" 2>&1 | mask_urls >>/tmp/start-slurm-apt.log \
      || { [ $POLICY_CREATED = 1 ] && rm -f /usr/sbin/policy-rc.d; tail -20 /tmp/start-slurm-apt.log; die "apt-get install failed"; }
  fi
  [ $POLICY_CREATED = 1 ] && rm -f /usr/sbin/policy-rc.d
  log "installed ($(elapsed)s)"
fi

# ---------------------------------------------------------------- 2. configure
mkdir -p "$DIR"/{state,spool,log,run}
chmod 755 "$DIR"
MEM=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
MEM=${MEM:-1024}
MEM=$(( MEM * 95 / 100 ))   # leave some head-room
AUTH_LINES="AuthType=auth/$AUTH
CredType=cred/$AUTH"
if [ "$ACCT" = 1 ]; then
  ACCT_LINES="JobAcctGatherType=jobacct_gather/linux
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost"
else
  ACCT_LINES="JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none"
fi
NEW=$(mktemp)
cat >"$NEW" <<EOF
# Generated by start-slurm.sh - single-node CI cluster. Do not edit by hand.
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
$AUTH_LINES
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/run/slurmctld.pid
SlurmdPidFile=$DIR/run/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
# Default batch_sched_delay=3 s makes a 6-task array on 2 CPUs take ~7 s; with 0 it is ~2 s.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
$ACCT_LINES
JobCompType=jobcomp/none
MaxArraySize=$MAX_ARRAY
MaxJobCount=$MAX_JOBS
# Trust the CPU/memory numbers below even if they differ from the hardware
# (lets SLURM_CI_CPUS oversubscribe, and keeps the node from draining).
SlurmdParameters=config_overrides
NodeName=localhost CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
RESTART=0
mkdir -p /etc/slurm
if ! cmp -s "$NEW" "$CONF"; then
  install -m 644 "$NEW" "$CONF"
  RESTART=1
  log "wrote $CONF"
fi
rm -f "$NEW"

# ---------------------------------------------------------------- 3. munge
if [ "$AUTH" = munge ]; then
  if [ ! -s /etc/munge/munge.key ]; then
    log "generating /etc/munge/munge.key"
    mkdir -p /etc/munge
    mungekey --create --keyfile=/etc/munge/munge.key --force
  fi
  chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  install -d -o munge -g munge -m 755 /run/munge
  install -d -o munge -g munge -m 700 /var/log/munge /var/lib/munge
  install -d -o munge -g munge -m 755 "$DIR/munge"
  if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "munged already answering"
  else
    rm -f "$DIR/munge/munged.pid"
    runuser -u munge -- munged --pid-file="$DIR/munge/munged.pid"
    for i in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || die "munged did not come up (see /var/log/munge/munged.log)"
    log "munged started (pid $(cat "$DIR/munge/munged.pid"))"
  fi
fi

# ---------------------------------------------------------------- 3b. accounting (MariaDB + slurmdbd)
if [ "$ACCT" = 1 ]; then
  cat >"$DIR/slurmdbd.conf.new" <<EOF
# Generated by start-slurm.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=$DIR/run/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=root
StorageLoc=slurm_acct_db
EOF
  if ! cmp -s "$DIR/slurmdbd.conf.new" "$DBDCONF"; then install -m 600 "$DIR/slurmdbd.conf.new" "$DBDCONF"; RESTART=1; fi
  rm -f "$DIR/slurmdbd.conf.new"
  if mariadb --socket="$MYSOCK" -e 'select 1' >/dev/null 2>&1; then
    log "MariaDB already answering on $MYSOCK"
  else
    install -d -o mysql -g mysql -m 755 /run/mysqld "$DIR/mysql-run"
    if [ ! -d "$DIR/mysql/mysql" ]; then
      install -d -o mysql -g mysql -m 750 "$DIR/mysql"
      mariadb-install-db --user=mysql --datadir="$DIR/mysql" --auth-root-authentication-method=socket \
        --skip-test-db >"$DIR/log/mariadb-install.log" 2>&1 || die "mariadb-install-db failed; see $DIR/log/mariadb-install.log"
    fi
    # (background subshell so the server is not a child of this script's shell)
    ( mariadbd --no-defaults --user=mysql --datadir="$DIR/mysql" --socket="$MYSOCK" \
        --pid-file="$DIR/mysql-run/mariadb.pid" --skip-networking --log-error="$DIR/log/mariadb.err" \
        --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 & )
    for i in $(seq 300); do mariadb --socket="$MYSOCK" -e 'select 1' >/dev/null 2>&1 && break; sleep 0.1; done
    mariadb --socket="$MYSOCK" -e 'select 1' >/dev/null 2>&1 || die "MariaDB did not come up; see $DIR/log/mariadb.err"
    log "MariaDB started (pid $(cat "$DIR/mysql-run/mariadb.pid"))"
  fi
  if [ $RESTART = 1 ]; then stop_pidfile "$DIR/run/slurmdbd.pid" slurmdbd; fi
  if ! pid_alive "$DIR/run/slurmdbd.pid" slurmdbd; then
    slurmdbd || die "slurmdbd failed to start; see $DIR/log/slurmdbd.log"
    for i in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/6819) 2>/dev/null && break; sleep 0.1; done
    (exec 3<>/dev/tcp/127.0.0.1/6819) 2>/dev/null || die "slurmdbd not listening on 6819; see $DIR/log/slurmdbd.log"
    log "slurmdbd started"
  fi
fi

# ---------------------------------------------------------------- 4. daemons
if [ $RESTART = 1 ]; then
  stop_pidfile "$DIR/run/slurmd.pid" slurmd
  stop_pidfile "$DIR/run/slurmctld.pid" slurmctld
fi
if ! pid_alive "$DIR/run/slurmctld.pid" slurmctld; then
  slurmctld -i || die "slurmctld failed to start; see $DIR/log/slurmctld.log"
  log "slurmctld started"
fi
if ! pid_alive "$DIR/run/slurmd.pid" slurmd; then
  slurmd -N localhost || die "slurmd failed to start; see $DIR/log/slurmd.log"
  log "slurmd started"
fi

# ---------------------------------------------------------------- 5. wait until ready
deadline=$(( $(date +%s) + TIMEOUT ))
state=""
while :; do
  if scontrol ping 2>/dev/null | grep -q 'is UP'; then
    state=$(sinfo -h -N -n localhost -o '%T' 2>/dev/null | head -1)
    case "$state" in
      idle|mixed|allocated|completing) break ;;
      drained|draining|down|fail|failing) scontrol update NodeName=localhost State=RESUME 2>/dev/null || true ;;
    esac
  fi
  [ "$(date +%s)" -lt "$deadline" ] || {
    tail -20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
    die "cluster not ready after ${TIMEOUT}s (node state: '${state}')"
  }
  sleep 0.2
done
log "node localhost is $state ($(elapsed)s)"

if [ "$SMOKE" = 1 ]; then
  # (sbatch --wait polls only every few seconds; poll scontrol ourselves)
  jid=$(sbatch --parsable -J ci-smoke -o /dev/null -e /dev/null --wrap true) || die "sbatch failed"
  while :; do
    js=$(scontrol show job "$jid" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
    case "$js" in COMPLETED) break ;; FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL) die "smoke job $jid: $js" ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || die "smoke job $jid not done after ${TIMEOUT}s (state '$js')"
    sleep 0.1
  done
  log "smoke job ran ($(elapsed)s)"
fi
[ "$ACCT" = 1 ] && log "accounting: slurmdbd + MariaDB (sacct works; records arrive a few seconds after job end)"
log "Slurm ready in $(elapsed)s: sbatch/squeue/scontrol use $CONF; logs in $DIR/log"
