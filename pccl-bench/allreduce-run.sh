# Sourced by run-benchmarks.sh and compare-allreduce.sh: their progress log line, and the one pccl-java all-reduce
# run both make, so that their figures come from the same arguments (run-benchmarks.sh's PCCL_WARMUP, PCCL_PREWARM
# and PCCL_PREWARM_LARGE apply to both; PCCL_RUN_TIMEOUT_S bounds one run).
# log MESSAGE: one progress line on stdout and in "$out/summary.txt" (the caller's $out), with the wall-clock time,
# the seconds since the script started and the load average.
log() {
  echo "== $* ($(date -u +%H:%M:%S), ${SECONDS} s, load $(cut -d' ' -f1-3 /proc/loadavg))" | tee -a "$out/summary.txt"
}
# pccl_allreduce JAVA JAR PEERS SIZES_MIB LOG SUMMARY: writes the run's result lines to LOG and its table to
# SUMMARY (appended).
pccl_allreduce() {
  local java="$1" jar="$2" peers="$3" sizes="$4" log="$5" summary="$6"
  timeout "${PCCL_RUN_TIMEOUT_S:-600}" "$java" -jar "$jar" allreduce --peers "$peers" --sizes-mib "$sizes" \
      --iters 9 --warmup "${PCCL_WARMUP:-10}" --prewarm-ops "${PCCL_PREWARM:-2000}" \
      --prewarm-large-ops "${PCCL_PREWARM_LARGE:-100}" --print-samples 2>&1 \
    | grep -vE '^\[(peer|pccl|main)' | tee "$log" | grep -vE '^(PCCL|# samples)' | tee -a "$summary"
}
