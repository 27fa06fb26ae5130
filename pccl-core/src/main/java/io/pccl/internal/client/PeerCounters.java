package io.pccl.internal.client;

import io.pccl.ReduceInfo;
import io.pccl.SyncInfo;

import java.util.concurrent.atomic.LongAdder;

/**
 * What a communicator counts about itself since it was built: outcomes of its collectives and membership calls, and
 * the bytes they moved. {@code Communicator.stats()} reads them; nothing here is reset.
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
     * @return the revision after the last successful sync, or -1 before the first
     */
    public long lastRevision() {
        return lastRevision;
    }

    /**
     * @return all-reduces that succeeded
     */
    public long allReducesSucceeded() {
        return allReducesSucceeded.sum();
    }

    /**
     * @return all-reduces that failed
     */
    public long allReducesFailed() {
        return allReducesFailed.sum();
    }

    /**
     * @return payload bytes sent by successful all-reduces
     */
    public long allReduceTxBytes() {
        return allReduceTxBytes.sum();
    }

    /**
     * @return payload bytes received by successful all-reduces
     */
    public long allReduceRxBytes() {
        return allReduceRxBytes.sum();
    }

    /**
     * @return ring re-establishments by {@code allReduceMultipleWithRetry}
     */
    public long retryRounds() {
        return retryRounds.sum();
    }

    /**
     * @return syncs that succeeded
     */
    public long syncsSucceeded() {
        return syncsSucceeded.sum();
    }

    /**
     * @return syncs that failed
     */
    public long syncsFailed() {
        return syncsFailed.sum();
    }

    /**
     * @return entry bytes served by successful syncs
     */
    public long syncTxBytes() {
        return syncTxBytes.sum();
    }

    /**
     * @return entry bytes received by successful syncs
     */
    public long syncRxBytes() {
        return syncRxBytes.sum();
    }

    /**
     * @return topology updates that succeeded
     */
    public long topologyUpdatesSucceeded() {
        return topologyUpdatesSucceeded.sum();
    }

    /**
     * @return topology updates that failed
     */
    public long topologyUpdatesFailed() {
        return topologyUpdatesFailed.sum();
    }

    /**
     * @return topology optimizations that succeeded
     */
    public long optimizationsSucceeded() {
        return optimizationsSucceeded.sum();
    }

    /**
     * @return topology optimizations that failed
     */
    public long optimizationsFailed() {
        return optimizationsFailed.sum();
    }
}
