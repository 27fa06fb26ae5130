#!/usr/bin/env bash
# Runs every figure quoted in docs/benchmarks.md in one go, so that ratios against the baselines come from one
# run on one machine. Usage (from the repository root, with ../shared beside it):
#   pccl-bench/run-benchmarks.sh [outdir]
# Needs: a built tree (mvn -q -DskipTests package); the baseline scripts install Gloo (python3-torch) and
# Open MPI themselves; iperf3 from Debian's packages. All traffic stays on 127.0.0.1.
set -euo pipefail
out="${1:-bench-out}"
mkdir -p "$out"
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="$here/../shared/baselines"
jar="$here/pccl-bench/target/pccl-bench.jar"
. "$here/pccl-bench/allreduce-run.sh"

log "loopback iperf3 (4 streams, 5 s)"
if command -v iperf3 >/dev/null; then
  iperf3 -s -B 127.0.0.1 -p 5299 -1 >/dev/null 2>&1 &
  sleep 1
  iperf3 -c 127.0.0.1 -p 5299 -P 4 -t 5 -f g | tail -4 | tee -a "$out/summary.txt"
fi

# The all-reduce comparison runs in rounds: each round runs Open MPI, Gloo and pccl-java (W = 2, then 4) once, so
# that every library is sampled across the whole run and a slow minute on this shared machine falls on all of them
# alike. summarize.py pools each library's samples over the rounds (median of all samples, as the baselines' own
# summarize.py does) and prints the ratios against the better baseline.
rounds="${PCCL_ROUNDS:-3}"
for r in $(seq 1 "$rounds"); do
  log "round $r/$rounds: Open MPI baseline"
  BASELINE_OUT="$out" "$shared/run_mpi.sh" 1 9 2 default >> "$out/mpi.txt" 2>&1 || echo "mpi baseline failed" | tee -a "$out/summary.txt"
  log "round $r/$rounds: Gloo baseline"
  BASELINE_OUT="$out" "$shared/run_gloo.sh" 1 9 2 >> "$out/gloo.txt" 2>&1 || echo "gloo baseline failed" | tee -a "$out/summary.txt"
  for w in 2 4; do
    log "round $r/$rounds: pccl-java allreduce W=$w"
    pccl_allreduce java "$jar" "$w" 1,16,64,256 "$out/pccl_r${r}_w${w}.log" "$out/summary.txt"
  done
done
log "all-reduce, pooled over $rounds rounds"
python3 "$here/pccl-bench/summarize.py" "$out"/mpi_*.log "$out"/gloo_*.log "$out"/pccl_r*_w*.log 2>&1 \
  | tee -a "$out/summary.txt" || true

log "pccl-java join latency"
java -jar "$jar" join-latency --joins 50 2>&1 | grep "join latency" | tee -a "$out/summary.txt"

log "pccl-java shared-state transfer 256 MiB"
java -Xmx1g -XX:MaxDirectMemorySize=2g -jar "$jar" sync --size-mib 256 --rounds 5 2>&1 | grep -E '^(round|shared-state)' \
  | tee -a "$out/summary.txt"

jmh_rounds="${PCCL_JMH_ROUNDS:-3}"
log "JMH: float32 SUM reduce vs memory copy at 64 MiB, $jmh_rounds rounds"
# Rounds of one fork per benchmark (the copy, then the reduce kernels), for the same reason as the all-reduce rounds:
# on this VM the 64 MiB kernel's speed moves within seconds and between processes (docs/benchmarks.md, Kernels), and
# forks run back to back let a slow stretch fall on one benchmark only.
for r in $(seq 1 "$jmh_rounds"); do
  java -cp "$jar" org.openjdk.jmh.Main 'kernels.ReduceKernelBenchmark|kernels.MemoryCopyBenchmark' \
    -p sizeBytes=67108864 -p type=FLOAT32 -p op=SUM -p direct=true -f 1 -wi 5 -i 10 -prof gc 2>&1 \
    | grep -E '^(Benchmark|ReduceKernelBenchmark|MemoryCopyBenchmark)' | tee "$out/jmh_r$r.txt" \
    | tee -a "$out/summary.txt" || true
done
# The score is the fourth field from the end: "<name> <params...> avgt <cnt> <score> ± <error> us/op".
awk 'FNR == 1 { files[++nf] = FILENAME }
     $1 == "MemoryCopyBenchmark.copy" { c[FILENAME] = $(NF - 3) }
     $1 == "ReduceKernelBenchmark.accumulate" { a[FILENAME] = $(NF - 3) }
     END {
       for (i = 1; i <= nf; i++) {
         f = files[i]
         if ((f in c) && (f in a)) { n++; sc += c[f]; sa += a[f]; printf "%s: copy/accumulate %.2f\n", f, c[f] / a[f] }
       }
       if (n) printf "copy %.0f us, accumulate %.0f us (means of %d rounds): ratio copy/accumulate %.2f (target >= 0.8)\n",
                     sc / n, sa / n, n, sc / sa
     }' "$out"/jmh_r*.txt | tee -a "$out/summary.txt"

log "JMH: hashes at 256 MiB"
java -cp "$jar" org.openjdk.jmh.Main 'HashBenchmark' -f 1 -wi 2 -i 3 2>&1 | grep -E '^(Benchmark|Hash)' | tee -a "$out/summary.txt" || true
log "done"
