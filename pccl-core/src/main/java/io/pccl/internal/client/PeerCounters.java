package io.pccl.internal.client;

import io.pccl.CommunicatorStats;
import io.pccl.ReduceInfo;
import io.pccl.SyncInfo;

import java.util.concurrent.atomic.LongAdder;

/**
 * What a communicator counts about itself since it was built: outcomes of its collectives and membership calls, and
 * the bytes they moved. {@code Communicator.stats()} takes a {@link #snapshot}; nothing here is reset.
 *
 * <p>Thread-safe: every counter is a {@link LongAdder}, written by whichever thread learns an outcome (one add per
 * operation, never per slice).
 */
public final class PeerCounters {
    private final LongAdder allReducesSucceeded = new LongAdder();
    private final LongAdder allReducesFailed = new LongAdder();
    private final LongAdder allReduceTxBytes = new LongAdder();
    private final LongAdder allReduceRxBytes = new LongAdder();
    private final LongAdder retryRounds = new LongAdder();
    private final LongAdder syncsSucceeded = new LongAdder();
    private final LongAdder syncsFailed = new LongAdder();
    private final LongAdder syncTxBytes = new LongAdder();
    private final LongAdder syncRxBytes = new LongAdder();
    private final LongAdder topologyUpdatesSucceeded = new LongAdder();
    private final LongAdder topologyUpdatesFailed = new LongAdder();
    private final LongAdder optimizationsSucceeded = new LongAdder();
    private final LongAdder optimizationsFailed = new LongAdder();
    private volatile long lastRevision = -1;

    /**
     * An all-reduce succeeded.
     *
     * @param info its outcome
     */
    public void onAllReduce(final ReduceInfo info) {
        allReducesSucceeded.increment();
        allReduceTxBytes.add(info.txBytes());
        allReduceRxBytes.add(info.rxBytes());
    }

    /** An all-reduce failed (after it was launched). */
    public void onAllReduceFailed() {
        allReducesFailed.increment();
    }

    /** {@code allReduceMultipleWithRetry} re-establishes the ring after a failed attempt. */
    public void onRetryRound() {
        retryRounds.increment();
    }

    /**
     * A shared-state sync succeeded.
     *
     * @param info its outcome
     */
    public void onSync(final SyncInfo info) {
        syncsSucceeded.increment();
        syncTxBytes.add(info.txBytes());
        syncRxBytes.add(info.rxBytes());
        lastRevision = info.revision();
    }

    /** A shared-state sync failed. */
    public void onSyncFailed() {
        syncsFailed.increment();
    }

    /**
     * An {@code updateTopology()} call ended.
     *
     * @param succeeded whether it succeeded
     */
    public void onTopologyUpdate(final boolean succeeded) {
        (succeeded ? topologyUpdatesSucceeded : topologyUpdatesFailed).increment();
    }

    /**
     * An {@code optimizeTopology()} call ended.
     *
     * @param succeeded whether it succeeded
     */
    public void onOptimization(final boolean succeeded) {
        (succeeded ? optimizationsSucceeded : optimizationsFailed).increment();
    }

    /**
     * A snapshot of the counters with the figures kept elsewhere.
     *
     * @param peerGroupWorldSize accepted peers of the group at the last topology update
     * @param allReducesInFlight all-reduces launched and not completed
     * @param droppedFrames data frames dropped on arrival
     * @param droppedBytes their bytes
     * @return the snapshot
     */
    public CommunicatorStats snapshot(final int peerGroupWorldSize, final int allReducesInFlight,
                                      final long droppedFrames, final long droppedBytes) {
        return new CommunicatorStats(peerGroupWorldSize, allReducesInFlight, allReducesSucceeded.sum(),
                allReducesFailed.sum(), allReduceTxBytes.sum(), allReduceRxBytes.sum(), retryRounds.sum(),
                droppedFrames, droppedBytes, syncsSucceeded.sum(), syncsFailed.sum(), syncTxBytes.sum(),
                syncRxBytes.sum(), lastRevision, topologyUpdatesSucceeded.sum(), topologyUpdatesFailed.sum(),
                optimizationsSucceeded.sum(), optimizationsFailed.sum());
    }
}
