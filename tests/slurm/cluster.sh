#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, for tests/test_slurm_cluster.py
# (run by .ci/run before `make test`; a developer runs it by hand, as root):
#
#     tests/slurm/cluster.sh start    # install, configure, start, wait until the node is idle
#     tests/slurm/cluster.sh status   # exit 0 when the cluster answers and the node is up
#     tests/slurm/cluster.sh stop     # stop the daemons this script starts
#
# `start` installs Debian's `slurm-wlm` and `munge` (apt-get, only when
# missing), writes /etc/slurm/slurm.conf and /etc/slurm/cgroup.conf for this
# machine (one node: its name, its CPUs from nproc, its memory from free),
# starts munged, slurmctld and slurmd directly (no systemd: containers have
# none) and waits until `sinfo` shows the node idle. It is idempotent: a
# running cluster whose configuration is unchanged is reused as it is. On any
# failure it says which step failed, with the tail of that daemon's log, and
# exits non-zero.
#
# Settings (Slurm 22.05, Debian bookworm), chosen so that it runs inside a
# container without systemd and with a hybrid cgroup v1/v2 mount:
#   ProctrackType=proctrack/linuxproc   processes tracked by parentage, no cgroup
#   TaskPlugin=task/none                no CPU binding, no cgroup
#   JobAcctGatherType=jobacct_gather/none, AccountingStorageType=accounting_storage/none
#   cgroup.conf: CgroupPlugin=cgroup/v1, IgnoreSystemd=yes, CgroupAutomount=no
#     (slurmd loads a cgroup plugin even when no plugin above uses cgroups;
#     cgroup/v2 refuses the hybrid mounts and 22.05 has no "disabled")
#   SlurmUser=root, SlurmdUser=root     the test jobs run as root, in this file system
#   NodeName=<hostname> NodeAddr=127.0.0.1 CPUs=<NCPUS>, with
#   SlurmdParameters=config_overrides   the node counts NCPUS (default: 4 x nproc,
#     at least 8) CPUs whatever it has, so that a 2-task job, its batch step and
#     a second job fit at once on a 2-core machine (KEPLERSR_SLURM_CPUS overrides)
#   SelectType=select/cons_tres, SelectTypeParameters=CR_CPU   CPUs are the unit
#   KillWait=5, OverTimeLimit=0         a job over its time limit gets SIGTERM,
#     then SIGKILL 5 s later (the time-limit test waits for this)
# Logs: /var/log/slurm/{slurmctld,slurmd}.log, /var/log/munge/munged.log.
set -uo pipefail

CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
SPOOL=/var/spool/slurm
PARTITION=debug

die() {   # die STEP MESSAGE [LOGFILE]
    echo "tests/slurm/cluster.sh: FAILED at step '$1': $2" >&2
    if [ $# -ge 3 ] && [ -n "$3" ]; then
        if [ -s "$3" ]; then
            echo "--- last lines of $3:" >&2
            tail -n 25 "$3" >&2
            echo "---" >&2
        else
            echo "($3 is empty or missing)" >&2
        fi
    fi
    exit 1
}
say() { echo "tests/slurm/cluster.sh: $*"; }

node_name() { hostname -s; }

ncpus() {
    if [ -n "${KEPLERSR_SLURM_CPUS:-}" ]; then echo "$KEPLERSR_SLURM_CPUS"; return; fi
    local n; n=$(nproc)
    n=$((4 * n)); [ "$n" -lt 8 ] && n=8
    echo "$n"
}

# memory for the node line: 90 % of the total in MiB (slurmd refuses a node
# claiming more than it has; config_overrides lifts that, but keep it honest)
mem_mb() { free -m | awk '/^Mem:/ { printf "%d\n", $2 * 0.9 }'; }

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 \
        && command -v sinfo >/dev/null 2>&1 || missing+=(slurm-wlm)
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" = 0 ] || die install "${missing[*]} missing and not root (apt-get needs root)"
    command -v apt-get >/dev/null 2>&1 || die install "${missing[*]} missing and no apt-get (not Debian/Ubuntu?)"
    say "installing ${missing[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    # policy-rc.d may forbid the packages' own start (no systemd): we start the daemons ourselves
    { apt-get update -qq && apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
        >/tmp/keplersr-slurm-apt.log 2>&1 || die install "apt-get install ${missing[*]} failed" /tmp/keplersr-slurm-apt.log
}

write_config() {   # prints "changed" when the configuration differs from the one in place
    local node cpus mem tmp
    node=$(node_name); cpus=$(ncpus); mem=$(mem_mb)
    mkdir -p "$CONF_DIR" "$LOG_DIR" "$SPOOL/ctld" "$SPOOL/d"
    tmp=$(mktemp)
    cat >"$tmp" <<EOF
# Written by tests/slurm/cluster.sh (KeplerSR's test cluster): one node, this machine.
ClusterName=keplersr
SlurmctldHost=${node}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=${SPOOL}/ctld
SlurmdSpoolDir=${SPOOL}/d
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=${LOG_DIR}/slurmctld.log
SlurmdLogFile=${LOG_DIR}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SlurmdParameters=config_overrides
ReturnToService=2
InactiveLimit=0
KillWait=5
OverTimeLimit=0
MinJobAge=300
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=${node} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=${PARTITION} Nodes=${node} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
    local cg; cg=$(mktemp)
    cat >"$cg" <<EOF
# Written by tests/slurm/cluster.sh: no cgroup is used (proctrack/linuxproc, task/none),
# but slurmd loads a cgroup plugin anyway; v1 without automount or systemd works in containers.
CgroupPlugin=cgroup/v1
IgnoreSystemd=yes
CgroupAutomount=no
EOF
    local changed=
    cmp -s "$tmp" "$CONF_DIR/slurm.conf" || { mv "$tmp" "$CONF_DIR/slurm.conf"; changed=yes; }
    cmp -s "$cg" "$CONF_DIR/cgroup.conf" || { mv "$cg" "$CONF_DIR/cgroup.conf"; changed=yes; }
    rm -f "$tmp" "$cg"
    chmod 644 "$CONF_DIR/slurm.conf" "$CONF_DIR/cgroup.conf"
    [ -n "$changed" ] && echo changed
    return 0
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1" 2>/dev/null)" 2>/dev/null; }

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
    if munge_ok; then return 0; fi
    say "starting munged"
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    if [ ! -s /etc/munge/munge.key ]; then
        mungekey --create >/dev/null 2>&1 || die munged "cannot create /etc/munge/munge.key (mungekey --create)"
    fi
    chown munge:munge /etc/munge/munge.key; chmod 600 /etc/munge/munge.key
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged >/dev/null 2>&1 \
        || die munged "munged did not start" /var/log/munge/munged.log
    for _ in $(seq 50); do munge_ok && return 0; sleep 0.2; done
    die munged "munged started but 'munge -n | unmunge' fails" /var/log/munge/munged.log
}

start_slurmctld() {
    pid_alive /run/slurmctld.pid && return 0
    say "starting slurmctld"
    # -i: ignore state it cannot recover (a previous run's jobs); state is kept otherwise
    /usr/sbin/slurmctld -i >/dev/null 2>&1 || die slurmctld "slurmctld exited at once" "$LOG_DIR/slurmctld.log"
    for _ in $(seq 100); do
        scontrol ping 2>/dev/null | grep -q "is UP" && return 0
        pid_alive /run/slurmctld.pid || die slurmctld "slurmctld died while starting" "$LOG_DIR/slurmctld.log"
        sleep 0.2
    done
    die slurmctld "slurmctld does not answer 'scontrol ping' after 20 s" "$LOG_DIR/slurmctld.log"
}

start_slurmd() {
    pid_alive /run/slurmd.pid && return 0
    say "starting slurmd"
    /usr/sbin/slurmd >/dev/null 2>&1 || die slurmd "slurmd exited at once" "$LOG_DIR/slurmd.log"
    sleep 0.5
    pid_alive /run/slurmd.pid || die slurmd "slurmd died while starting" "$LOG_DIR/slurmd.log"
}

node_state() { sinfo -h -N -n "$(node_name)" -o '%T' 2>/dev/null | head -n1; }

wait_idle() {
    local node state; node=$(node_name)
    for _ in $(seq 150); do
        state=$(node_state)
        case "$state" in
            idle | mixed | allocated) return 0 ;;
            *drain* | *down* | *fail*)
                # a node left down by an earlier run: give it back to service
                scontrol update NodeName="$node" State=RESUME >/dev/null 2>&1 ;;
        esac
        pid_alive /run/slurmd.pid || die slurmd "slurmd died (node state '${state}')" "$LOG_DIR/slurmd.log"
        sleep 0.2
    done
    echo "sinfo:" >&2; sinfo -N -l >&2 || true
    scontrol show node "$node" >&2 || true
    die "node idle" "node $node is '${state}' after 30 s, not idle" "$LOG_DIR/slurmd.log"
}

stop_daemon() {   # stop_daemon NAME PIDFILE
    local pid
    pid_alive "$2" || { rm -f "$2"; return 0; }
    pid=$(cat "$2")
    say "stopping $1 ($pid)"
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { rm -f "$2"; return 0; }; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null; rm -f "$2"
}

cmd_stop() {
    stop_daemon slurmd /run/slurmd.pid
    stop_daemon slurmctld /run/slurmctld.pid
    stop_daemon munged /run/munge/munged.pid
}

cmd_status() {
    pid_alive /run/slurmctld.pid && pid_alive /run/slurmd.pid && munge_ok || return 1
    local state; state=$(node_state)
    case "$state" in idle | mixed | allocated | completing) ;; *) return 1 ;; esac
    sinfo
}

cmd_start() {
    [ "$(id -u)" = 0 ] || die start "run as root: the daemons and their configuration need it"
    install_packages
    if [ -n "$(write_config)" ] && { pid_alive /run/slurmctld.pid || pid_alive /run/slurmd.pid; }; then
        say "configuration changed: restarting the Slurm daemons"
        stop_daemon slurmd /run/slurmd.pid
        stop_daemon slurmctld /run/slurmctld.pid
    fi
    start_munge
    start_slurmctld
    start_slurmd
    wait_idle
    say "cluster up"
    sinfo
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
