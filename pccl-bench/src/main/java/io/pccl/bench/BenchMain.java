package io.pccl.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of {@code java -jar pccl-bench/target/pccl-bench.jar <command>}.
 *
 * <p>Not thread-safe; runs once on the main thread.
 */
@Command(name = "pccl-bench", mixinStandardHelpOptions = true, version = "pccl-bench 0.1.0",
        description = "pccl-java benchmarks, demo and churn harness",
        subcommands = {AllReduceBench.class, AllReduceBench.Peer.class, JoinLatencyBench.class, SyncBench.class,
            Demo.class, Churn.class})
public final class BenchMain implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command line.
     *
     * @param args command and options
     */
    public static void main(final String[] args) {
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }
}
