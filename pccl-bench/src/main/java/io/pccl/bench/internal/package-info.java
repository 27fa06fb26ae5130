/**
 * Plumbing shared by the benchmark, demo and churn commands: launching peer JVMs and reading their output.
 */
package io.pccl.bench.internal;
