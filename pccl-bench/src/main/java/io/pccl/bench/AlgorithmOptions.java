package io.pccl.bench;

import picocli.CommandLine.Option;

import java.util.List;

/**
 * What {@link TrainingPeer}'s steps compute: the picocli options that the peer, the demo and the churn harness
 * share (a mixin), and the peer arguments the last two pass on.
 *
 * <p>Not thread-safe; filled by picocli (or a test) before the command runs, then only read.
 */
final class AlgorithmOptions {
    @Option(names = "--algorithm", description = "DDP: all-reduce a gradient every step; DILOCO: inner steps, then "
            + "all-reduce the pseudo-gradient and take an outer Nesterov step; ASYNC_DILOCO: the same, one step "
            + "delayed, the all-reduce overlapping the next inner steps (docs/diloco.md). Default ${DEFAULT-VALUE}")
    TrainingPeer.Algorithm algorithm = TrainingPeer.Algorithm.DDP;
    @Option(names = "--inner-steps", description = "with DILOCO and ASYNC_DILOCO: inner steps per outer step "
            + "(default ${DEFAULT-VALUE})")
    int innerSteps = 10;

    /** The options for a {@link TrainingPeer} child. */
    List<String> peerArgs() {
        return List.of("--algorithm=" + algorithm, "--inner-steps=" + innerSteps);
    }

    /** "DDP", or the algorithm with its inner steps, for a run's first line. */
    String describe() {
        return algorithm == TrainingPeer.Algorithm.DDP ? "DDP"
                : algorithm + " with " + innerSteps + " inner steps per outer step";
    }

    boolean isDiLoCo() {
        return algorithm != TrainingPeer.Algorithm.DDP;
    }
}
