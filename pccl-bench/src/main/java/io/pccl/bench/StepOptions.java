package io.pccl.bench;

import io.pccl.DataType;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * What {@link TrainingPeer}'s steps do: the picocli options that the peer, the demo and the churn harness share
 * (a mixin), and the peer arguments the last two pass on.
 *
 * <p>Not thread-safe; filled by picocli (or a test) before the command runs, then only read.
 */
final class StepOptions {
    @Option(names = "--algorithm", description = "DDP: all-reduce a gradient every step; DILOCO: inner steps, then "
            + "all-reduce the pseudo-gradient and take an outer Nesterov step; ASYNC_DILOCO: the same, one step "
            + "delayed, the all-reduce overlapping the next inner steps (docs/diloco.md). Default ${DEFAULT-VALUE}")
    TrainingPeer.Algorithm algorithm = TrainingPeer.Algorithm.DDP;
    @Option(names = "--inner-steps", description = "with DILOCO and ASYNC_DILOCO: inner steps per outer step "
            + "(default ${DEFAULT-VALUE})")
    int innerSteps = 10;
    @Option(names = "--quantize", description = "MinMax-quantize the (pseudo-)gradient all-reduces to this type "
            + "(UINT8, UINT16, UINT32, UINT64; default: float32 as it is)")
    DataType quantize;
    @Option(names = "--optimize-every", description = "call optimizeTopology() right after each successful sync "
            + "whose revision is a multiple of this (0: never; default ${DEFAULT-VALUE}). Every peer of the group "
            + "gets the same revision from the sync, so they all decide alike, also under churn")
    long optimizeEvery;

    /** The options for a {@link TrainingPeer} child. */
    List<String> peerArgs() {
        final List<String> args = new ArrayList<>(List.of("--algorithm=" + algorithm, "--inner-steps=" + innerSteps,
                "--optimize-every=" + optimizeEvery));
        if (quantize != null) {
            args.add("--quantize=" + quantize);
        }
        return args;
    }

    /** "DDP", or the algorithm with its inner steps, and the quantization if any, for a run's first line. */
    String describe() {
        return (isDiLoCo() ? algorithm + " with " + innerSteps + " inner steps per outer step" : "DDP")
                + (quantize == null ? "" : ", all-reduces quantized to " + quantize);
    }

    boolean isDiLoCo() {
        return algorithm != TrainingPeer.Algorithm.DDP;
    }
}
