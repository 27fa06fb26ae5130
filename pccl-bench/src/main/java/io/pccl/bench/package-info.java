/**
 * The {@code pccl-bench} command line: end-to-end benchmarks (all-reduce, join latency), the demo and the churn
 * harness. JMH kernel benchmarks live in sub-packages and run through {@code org.openjdk.jmh.Main}.
 */
package io.pccl.bench;
