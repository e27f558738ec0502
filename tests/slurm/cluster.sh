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
# machine (one node: its name, its CPUs from nproc, its memory from /proc/meminfo),
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
#     (with the two plugins above slurmd also starts and runs jobs without it,
#     checked here; it is written so that whatever does load the cgroup plugin
#     gets the combination that works in such a container: cgroup/v2 refuses
#     hybrid mounts, and 22.05 has no CgroupPlugin=disabled)
#   SlurmUser=root, SlurmdUser=root     the test jobs run as root, in this file system
#   NodeName=<hostname> NodeAddr=127.0.0.1 CPUs=<NCPUS>, with
#   SlurmdParameters=config_overrides   the node counts NCPUS (default: 4 x nproc,
#     at least 8) CPUs whatever it has, so that the tests' jobs of 2 tasks each
#     (the time-limit job runs its minute beside the others) fit at once on a
#     2-core machine (KEPLERSR_SLURM_CPUS overrides)
#   SelectType=select/cons_tres, SelectTypeParameters=CR_CPU   CPUs are the unit
#   KillWait=5, OverTimeLimit=0         a job over its time limit gets SIGTERM,
#     then SIGKILL 5 s later; with `--time=1` (a minute, the smallest) it ends
#     60-90 s after it started (slurmctld checks limits every 30 s or so)
# Logs: /var/log/slurm/{slurmctld,slurmd}.log (and .stderr: what the daemon printed before
# its log was open), /var/log/munge/munged.log.
set -uo pipefail

CONF_DIR=/etc/slurm
LOG_DIR=/var/log/slurm
SPOOL=/var/spool/slurm
PARTITION=debug

die() {   # die STEP MESSAGE [FILE...]: the failed step, then the tail of each file (daemon logs)
    local step=$1 msg=$2 f; shift 2
    echo "tests/slurm/cluster.sh: FAILED at step '$step': $msg" >&2
    for f in "$@"; do
        if [ -s "$f" ]; then
            echo "--- last lines of $f:" >&2
            tail -n 25 "$f" >&2
            echo "---" >&2
        else
            echo "($f is empty or missing)" >&2
        fi
    done
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

# memory for the node line: 90 % of the total in MiB, what `free -m` shows, read from
# /proc/meminfo (minimal images lack procps); slurmd refuses a node claiming more
# than it has (config_overrides lifts that, but keep it honest)
mem_mb() { awk '/^MemTotal:/ { printf "%d\n", $2 / 1024 * 0.9 }' /proc/meminfo; }

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
MailProg=/bin/true
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
# Written by tests/slurm/cluster.sh: no cgroup is used (proctrack/linuxproc, task/none); should
# anything load the cgroup plugin, v1 without automount or systemd is what works in containers.
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

# the process of pid file $1 runs (a zombie does not: a daemon this script started and that
# died stays one until the script exits)
pid_alive() {
    local pid; pid=$(cat "$1" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

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

# start_daemon NAME ARGS...: run the daemon in the foreground (-D) in its own session, in the
# background of this script, its stdout/stderr into $LOG_DIR/NAME.stderr (errors before its
# log file is open, such as a bad slurm.conf, go there); its pid in /run/NAME.pid (ours, not
# the daemon's own pid file, which appears only later)
start_daemon() {
    local name=$1; shift
    say "starting $name"
    : >"$LOG_DIR/$name.stderr"
    setsid "$@" -D </dev/null >>"$LOG_DIR/$name.stderr" 2>&1 &
    echo $! >"/run/keplersr-$name.pid"
}

# alive by our pid file or by the daemon's own (a daemon started otherwise is reused too)
daemon_alive() { pid_alive "/run/keplersr-$1.pid" || pid_alive "/run/$1.pid"; }

daemon_died() {   # daemon_died NAME STEP MESSAGE
    if [ -s "$LOG_DIR/$1.stderr" ]; then
        die "$2" "$3" "$LOG_DIR/$1.stderr" "$LOG_DIR/$1.log"
    fi
    die "$2" "$3" "$LOG_DIR/$1.log"
}

start_slurmctld() {
    daemon_alive slurmctld && return 0
    # -i: ignore state it cannot recover (a previous run's jobs); state is kept otherwise
    start_daemon slurmctld /usr/sbin/slurmctld -i
    for _ in $(seq 100); do
        scontrol ping 2>/dev/null | grep -q "is UP" && return 0
        daemon_alive slurmctld || daemon_died slurmctld slurmctld "slurmctld exited while starting"
        sleep 0.2
    done
    daemon_died slurmctld slurmctld "slurmctld does not answer 'scontrol ping' after 20 s"
}

start_slurmd() {
    daemon_alive slurmd && return 0
    start_daemon slurmd /usr/sbin/slurmd
    sleep 1
    daemon_alive slurmd || daemon_died slurmd slurmd "slurmd exited while starting"
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
        daemon_alive slurmd || daemon_died slurmd slurmd "slurmd exited (node state '${state}')"
        sleep 0.2
    done
    echo "sinfo:" >&2; sinfo -N -l >&2 || true
    scontrol show node "$node" >&2 || true
    die "node idle" "node $node is '${state}' after 30 s, not idle" "$LOG_DIR/slurmctld.log"
}

stop_daemon() {   # stop_daemon NAME PIDFILE (ours for slurmctld and slurmd: see start_daemon)
    local pid
    pid_alive "$2" || { rm -f "$2"; return 0; }
    pid=$(cat "$2")
    say "stopping $1 ($pid)"
    kill "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || { rm -f "$2"; return 0; }; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null; rm -f "$2"
}

cmd_stop_slurm() {
    local d
    for d in slurmd slurmctld; do
        stop_daemon "$d" "/run/keplersr-$d.pid"
        stop_daemon "$d" "/run/$d.pid"
    done
}

cmd_stop() {
    cmd_stop_slurm
    stop_daemon munged /run/munge/munged.pid
}

cmd_status() {
    daemon_alive slurmctld && daemon_alive slurmd && munge_ok || return 1
    local state; state=$(node_state)
    case "$state" in idle | mixed | allocated | completing) ;; *) return 1 ;; esac
    sinfo
}

cmd_start() {
    [ "$(id -u)" = 0 ] || die start "run as root: the daemons and their configuration need it"
    case "${KEPLERSR_SLURM_CPUS:-1}" in
        '' | *[!0-9]* | 0) die configure "KEPLERSR_SLURM_CPUS must be a number >= 1, got '${KEPLERSR_SLURM_CPUS}'" ;;
    esac
    install_packages
    mkdir -p "$LOG_DIR"
    if [ -n "$(write_config)" ] && { daemon_alive slurmctld || daemon_alive slurmd; }; then
        say "configuration changed: restarting the Slurm daemons"
        cmd_stop_slurm
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
