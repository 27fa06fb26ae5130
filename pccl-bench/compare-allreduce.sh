#!/usr/bin/env bash
# The all-reduce comparison alone (Gloo against pccl-java, in rounds), for a machine that has a Java runtime and
# PyTorch but no Maven, no Open MPI and no network: the many-core device machine of docs/benchmarks.md. The full
# set of figures on the development machine comes from run-benchmarks.sh instead.
# Usage: pccl-bench/compare-allreduce.sh OUTDIR
# Environment (defaults in brackets):
#   JAVA [java]  PYTHON [python3]  JAR [pccl-bench/target/pccl-bench.jar]
#   GLOO_BENCH [../shared/baselines/gloo_allreduce_bench.py]
#   WORLDS ["2 4"]  SIZES [1,16,64,256]  ROUNDS [3]
#   DEADLINE_S [0 = none]: no new round starts once the script has run this long, so that a leased machine's
#   time limit cuts the run between rounds and never in the middle of one.
#   The pccl-java run itself is allreduce-run.sh's, shared with run-benchmarks.sh (same arguments and knobs).
# All traffic stays on 127.0.0.1.
set -euo pipefail
out="${1:?usage: compare-allreduce.sh OUTDIR}"
mkdir -p "$out"
here="$(cd "$(dirname "$0")/.." && pwd)"
java="${JAVA:-java}"
python="${PYTHON:-python3}"
jar="${JAR:-$here/pccl-bench/target/pccl-bench.jar}"
gloo="${GLOO_BENCH:-$here/../shared/baselines/gloo_allreduce_bench.py}"
worlds="${WORLDS:-2 4}"
sizes="${SIZES:-1,16,64,256}"
rounds="${ROUNDS:-3}"
deadline="${DEADLINE_S:-0}"
. "$here/pccl-bench/allreduce-run.sh"

log "machine: $(nproc) cores, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
done_rounds=0
for r in $(seq 1 "$rounds"); do
  if [ "$deadline" -gt 0 ] && [ "$SECONDS" -ge "$deadline" ]; then
    log "deadline ${deadline} s reached: no round $r"
    break
  fi
  for w in $worlds; do
    log "round $r/$rounds: Gloo W=$w"
    GLOO_SOCKET_IFNAME=lo timeout 300 "$python" "$gloo" --world "$w" --port $((29600 + 10 * r + w)) --iters 9 \
        --warmup 2 --sizes "$sizes" 2>&1 | grep -E '^GLOO' | tee "$out/gloo_r${r}_w${w}.log" | cut -c1-150 \
        | tee -a "$out/summary.txt" || log "Gloo W=$w failed"
    log "round $r/$rounds: pccl-java W=$w"
    pccl_allreduce "$java" "$jar" "$w" "$sizes" "$out/pccl_r${r}_w${w}.log" "$out/summary.txt" \
        || log "pccl-java W=$w failed"
  done
  done_rounds=$r
done
log "all-reduce, pooled over $done_rounds rounds"
"$python" "$here/pccl-bench/summarize.py" "$out"/gloo_r*_w*.log "$out"/pccl_r*_w*.log 2>&1 \
  | tee -a "$out/summary.txt" || true
log "done"
