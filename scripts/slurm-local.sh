#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the tests and for trying `linkbert launch --executor slurm`.
#   scripts/slurm-local.sh start    install slurm-wlm and munge from apt when missing, write a localhost
#                                   slurm.conf, start munged, slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-local.sh stop     stop the daemons this script started
#   scripts/slurm-local.sh status   say whether the cluster answers
# Idempotent: start on a running cluster, or stop on a stopped one, changes nothing. Needs root.
set -euo pipefail

STATE=/run/linkbert-slurm
CONF=/etc/slurm/slurm.conf
MARK="# written by linkbert-pipeline scripts/slurm-local.sh"

say() { echo "slurm-local: $*" >&2; }

answers() { timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qE 'idle|mixed|alloc'; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then return; fi
  say "installing slurm-wlm and munge from apt"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq slurm-wlm munge >/dev/null
}

configure() {
  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
  if [[ -f $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
    say "$CONF exists and was not written by this script: using it as it is"
    return
  fi
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm "$STATE"
  cat >"$CONF" <<EOF
$MARK
ClusterName=linkbert-local
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=2048
ReturnToService=2
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
SchedulerType=sched/backfill
# schedule often: a plan is a chain of short dependent jobs
SchedulerParameters=sched_interval=2,bf_interval=2,sched_min_interval=200000
MaxArraySize=100001
MinJobAge=300
KillWait=10
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start() {
  install
  configure
  mkdir -p "$STATE" /run/munge
  chown munge:munge /run/munge 2>/dev/null || true
  if ! pgrep -x munged >/dev/null; then
    [[ -s /etc/munge/munge.key ]] || { /usr/sbin/mungekey -c 2>/dev/null || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged 2>/dev/null || /usr/sbin/munged --force
    touch "$STATE/munged.ours"
  fi
  if ! pgrep -x slurmctld >/dev/null; then /usr/sbin/slurmctld; touch "$STATE/slurmctld.ours"; fi
  if ! pgrep -x slurmd >/dev/null; then /usr/sbin/slurmd; touch "$STATE/slurmd.ours"; fi
  for _ in $(seq 1 60); do
    if answers; then
      # a node left down by an earlier run comes back
      scontrol update nodename="$(hostname -s)" state=resume >/dev/null 2>&1 || true
      say "up: $(sinfo -h -o '%N %T %c CPUs')"
      return 0
    fi
    sleep 1
  done
  say "the cluster did not come up within a minute; see /var/log/slurm/"
  return 1
}

stop() {
  for d in slurmd slurmctld munged; do
    if [[ -f $STATE/$d.ours ]]; then
      pkill -x "$d" || true
      rm -f "$STATE/$d.ours"
    fi
  done
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if answers; then say "up: $(sinfo -h -o '%N %T %c CPUs')"; else say "not running"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
