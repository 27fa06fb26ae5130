package io.pccl.internal.collective;

import io.pccl.PcclException;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOperation;
import io.pccl.TooFewPeersException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.IntSupplier;

/**
 * The loop behind {@code Communicator.allReduceMultipleWithRetry}: runs a batch with at most {@code maxInFlight}
 * operations at once; after a retryable failure it stops launching, awaits every launched operation,
 * re-establishes the ring without accepting new peers and relaunches the failed (and not yet launched) ones,
 * until all succeeded or fewer than two peers are left.
 *
 * <p>Every peer makes the same decisions: operations are awaited in launch order and the decision to launch the
 * next one depends only on the outcomes of the operations awaited so far, which the master makes identical on
 * every peer (an operation succeeds only if every member's part succeeded).
 *
 * <p>Confined to the calling thread.
 */
public final class RetryLoop {
    private static final Logger LOG = LoggerFactory.getLogger(RetryLoop.class);

    /** Launches one operation. */
    public interface Launcher {
        /**
         * @param op the operation
         * @return its future
         */
        CompletableFuture<ReduceInfo> launch(ReduceOperation op);
    }

    private RetryLoop() {
    }

    /**
     * Runs the batch.
     *
     * @param ops the operations (distinct tags)
     * @param maxInFlight most operations running at once, {@code >= 1}
     * @param launcher launches one operation
     * @param reestablish re-establishes the ring without accepting new peers (joint call of the survivors)
     * @param worldSize the group's current world size
     * @return world size = the smallest an operation completed with, tx/rx = sums over the successful attempts
     */
    public static ReduceInfo run(final List<ReduceOperation> ops, final int maxInFlight, final Launcher launcher,
                                 final Runnable reestablish, final IntSupplier worldSize) {
        validate(ops, maxInFlight);
        ArrayDeque<Integer> pending = new ArrayDeque<>();
        for (int i = 0; i < ops.size(); i++) {
            pending.add(i);
        }
        int minWorld = Integer.MAX_VALUE;
        long tx = 0;
        long rx = 0;
        int attempt = 0;
        while (!pending.isEmpty()) {
            attempt++;
            final int w = worldSize.getAsInt();
            if (w < 2) {
                throw new TooFewPeersException("allReduceMultipleWithRetry: group world size " + w + " after "
                        + (attempt - 1) + " failed attempt(s); " + pending.size() + " of " + ops.size()
                        + " operations not done");
            }
            final ArrayDeque<Integer> launchedIdx = new ArrayDeque<>();
            final ArrayDeque<CompletableFuture<ReduceInfo>> launched = new ArrayDeque<>();
            final List<Integer> failed = new ArrayList<>();
            PcclException fatal = null;
            PcclException firstRetryable = null;
            boolean stop = false;
            while (true) {
                while (!stop && launched.size() < maxInFlight && !pending.isEmpty()) {
                    final int i = pending.peekFirst();
                    try {
                        launched.add(launcher.launch(ops.get(i)));
                        launchedIdx.add(pending.pollFirst());
                    } catch (PcclException e) {
                        stop = true;
                        fatal = e;
                    }
                }
                if (launched.isEmpty()) {
                    break;
                }
                final int i = launchedIdx.pollFirst();
                try {
                    final ReduceInfo info = Futures.await(launched.pollFirst());
                    minWorld = Math.min(minWorld, info.worldSize());
                    tx += info.txBytes();
                    rx += info.rxBytes();
                } catch (PcclException e) {
                    stop = true;
                    if (e.isRetryable() && !(e instanceof TooFewPeersException)) {
                        failed.add(i);
                        if (firstRetryable == null) {
                            firstRetryable = e;
                        }
                    } else if (fatal == null) {
                        fatal = e;
                    }
                }
            }
            if (fatal != null) {
                throw fatal;
            }
            if (!failed.isEmpty()) {
                final ArrayDeque<Integer> next = new ArrayDeque<>(failed);
                next.addAll(pending);
                pending = next;
                LOG.info("allReduceMultipleWithRetry: attempt {} failed for {} operation(s) ({}); re-establishing "
                        + "the ring without new peers", attempt, failed.size(), firstRetryable.getMessage());
                reestablish.run();
            }
        }
        return new ReduceInfo(minWorld == Integer.MAX_VALUE ? worldSize.getAsInt() : minWorld, tx, rx);
    }

    private static void validate(final List<ReduceOperation> ops, final int maxInFlight) {
        if (maxInFlight < 1) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduceMultipleWithRetry: maxInFlight "
                    + maxInFlight + " must be >= 1");
        }
        final Set<Long> tags = new HashSet<>();
        for (int i = 0; i < ops.size(); i++) {
            final ReduceOperation op = ops.get(i);
            if (op == null) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduceMultipleWithRetry: "
                        + "operation " + i + " is null");
            }
            if (!tags.add(op.descriptor().tag())) {
                throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "allReduceMultipleWithRetry: "
                        + "operation " + i + " reuses tag " + op.descriptor().tag() + "; tags must differ");
            }
        }
    }
}
