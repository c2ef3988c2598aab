#!/usr/bin/env bash
# make test-slurm: the smoke config through workflow/profiles/slurm on a one-node SLURM cluster started on this
# machine, against the same config run locally; every table of the two runs compared (timing columns aside).
#
# Needs root on Debian/Ubuntu (installs slurmctld slurmd slurm-client munge with apt-get when missing). Not part of
# `make test`. The cluster's slurm.conf lives in the scratch directory (SLURM_CONF), never in /etc/slurm, and the
# daemons this script starts are stopped when it ends.
#   DLTHEORY_SLURM_DIR    scratch directory (default /tmp/dltheory-slurm; emptied first)
#   DLTHEORY_SLURM_LOCAL  a finished local smoke run to compare with, instead of running one here
#   DLTHEORY_SLURM_PORT   slurmctld's port (default 6817; slurmd takes the next one)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${DLTHEORY_SLURM_DIR:-/tmp/dltheory-slurm}
PORT=${DLTHEORY_SLURM_PORT:-6817}
export PATH="$REPO/.venv/bin:$PATH" OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
SNAKEMAKE=(snakemake --snakefile "$REPO/Snakefile")

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }

# --- install and start a one-node cluster -------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null \
    || ! command -v munged >/dev/null; then
    step "installing slurmctld slurmd slurm-client munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurmctld slurmd slurm-client munge >/dev/null
fi

rm -rf "$WORK"
mkdir -p "$WORK"/{etc,state,spool,log,slurm/config}
cp "$REPO"/config/*.yaml "$WORK/slurm/config/"

started=()
cleanup() {
    if [ -n "${SLURM_CONF:-}" ] && [ -f "$SLURM_CONF" ]; then scancel --user "$(id -un)" 2>/dev/null || true; fi
    for pidfile in "${started[@]}"; do
        [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
    done
}
trap cleanup EXIT

if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    step "starting munged"
    [ -f /etc/munge/munge.key ] || { dd if=/dev/urandom bs=1 count=1024 2>/dev/null > /etc/munge/munge.key; }
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
    started+=(/run/munge/munged.pid)
    sleep 1
    munge -n | unmunge >/dev/null
fi

step "starting slurmctld and slurmd"
host=$(hostname -s)
node=$(slurmd -C | head -1)  # NodeName=<host> CPUs=... RealMemory=...: this machine as slurmd sees it
export SLURM_CONF="$WORK/etc/slurm.conf"
# Inside each job the executor runs srun with every SLURM_* variable removed, SLURM_CONF too; a real cluster has
# /etc/slurm/slurm.conf (or a configless slurmd), this one an srun first on PATH that knows where its config is.
mkdir -p "$WORK/bin"
printf '#!/bin/sh\nexport SLURM_CONF=%s\nexec %s "$@"\n' "$SLURM_CONF" "$(command -v srun)" > "$WORK/bin/srun"
chmod +x "$WORK/bin/srun"
export PATH="$WORK/bin:$PATH"
cat > "$SLURM_CONF" <<EOF
ClusterName=dltheory-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
echo "node: $node"
slurmctld -c
started+=("$WORK/slurmctld.pid")
slurmd
started+=("$WORK/slurmd.pid")
for _ in $(seq 60); do
    state=$(sinfo -h -o %t 2>/dev/null || true)
    [ "$state" = idle ] && break
    sleep 1
done
sinfo
[ "$(sinfo -h -o %t)" = idle ] || { echo "the node did not come up idle; see $WORK/log" >&2; exit 1; }
sbatch --wait --quiet -o "$WORK/log/probe.log" --mem 100 --wrap "env -u SLURM_CONF srun true" \
    || { cat "$WORK/log/probe.log"; echo "a probe job (sbatch, srun inside) failed; see $WORK/log" >&2; exit 1; }

# --- the smoke config through the profile, and locally ------------------------------------------------------------
step "smoke config through workflow/profiles/slurm"
cd "$REPO"
start=$(date +%s)
"${SNAKEMAKE[@]}" --workflow-profile workflow/profiles/slurm --directory "$WORK/slurm" \
    --configfile "$WORK/slurm/config/smoke.yaml" --slurm-status-command squeue \
    --slurm-init-seconds-before-status-checks 5 --local-cores 1 > "$WORK/slurm.log" 2>&1 \
    || { tail -40 "$WORK/slurm.log"; echo "the SLURM run failed; its log: $WORK/slurm.log" >&2; exit 1; }
slurm_seconds=$(($(date +%s) - start))
submitted=$(grep -c "has been submitted with SLURM jobid" "$WORK/slurm.log" || true)
on_host=$(grep -c "^localrule " "$WORK/slurm.log" || true)
echo "SLURM run: $submitted jobs submitted by sbatch, $on_host run on the submit host, $slurm_seconds s"
grep "Every job fits a node" "$WORK/slurm.log" || true

step "jobs larger than the node: the run stops before any submission"
cpus=$(sed -n 's/.* CPUs=\([0-9]*\) .*/\1/p' <<<"$node")
mkdir -p "$WORK/too_large/config" && cp "$REPO"/config/*.yaml "$WORK/too_large/config/"
if "${SNAKEMAKE[@]}" --workflow-profile workflow/profiles/slurm --directory "$WORK/too_large" \
    --configfile "$WORK/too_large/config/smoke.yaml" --config threads_per_job=$((cpus + 1)) \
    --slurm-status-command squeue > "$WORK/too_large.log" 2>&1; then
    echo "a run asking $((cpus + 1)) CPUs per job on a $cpus-CPU node did not stop" >&2; exit 1
fi
grep -A2 "No node of this cluster can run these jobs" "$WORK/too_large.log"
too_large_submitted=$(grep -c "has been submitted with SLURM jobid" "$WORK/too_large.log" || true)
echo "... $(grep -c ": asks " "$WORK/too_large.log") rules named, $too_large_submitted jobs submitted"
[ "$too_large_submitted" = 0 ] || exit 1

local_dir=${DLTHEORY_SLURM_LOCAL:-}
if [ -z "$local_dir" ]; then
    step "smoke config locally (--cores 1)"
    local_dir="$WORK/local"
    mkdir -p "$local_dir/config" && cp "$REPO"/config/*.yaml "$local_dir/config/"
    start=$(date +%s)
    "${SNAKEMAKE[@]}" --cores 1 --directory "$local_dir" --configfile "$local_dir/config/smoke.yaml" \
        > "$WORK/local.log" 2>&1 || { tail -40 "$WORK/local.log"; exit 1; }
    local_jobs=$(grep -c "^\(local\)\?rule " "$WORK/local.log" || true)
    echo "local run: $local_jobs jobs, $(($(date +%s) - start)) s"
fi

step "tables: SLURM run against local run"
python "$REPO/tests/slurm/compare_tables.py" "$WORK/slurm" "$local_dir"
