package io.pccl;

/**
 * A snapshot of what a {@link Communicator} did since it was built ({@link Communicator#stats()}): outcomes of its
 * all-reduces and membership calls and the bytes they moved. Counters only grow; each is read on its own, so a
 * snapshot taken while operations finish may count an operation in one field and not yet in another.
 *
 * <p>Thread-safe (immutable).
 *
 * @param peerGroupWorldSize accepted peers in this peer's group as of the last topology update (0 before
 *        {@link Communicator#connect()})
 * @param allReducesInFlight all-reduces launched and not completed
 * @param allReducesSucceeded all-reduces that completed successfully (each attempt of
 *        {@link Communicator#allReduceMultipleWithRetry} counts on its own)
 * @param allReducesFailed all-reduces that were launched and failed (peer lost, aborted, mismatch, closed, ...)
 * @param allReduceTxBytes payload bytes this peer sent in successful all-reduces ({@link ReduceInfo#txBytes()})
 * @param allReduceRxBytes payload bytes this peer received in successful all-reduces
 * @param allReduceRetryRounds ring re-establishments {@link Communicator#allReduceMultipleWithRetry} made after a
 *        failed attempt
 * @param droppedFrames data frames dropped on arrival: for an operation that finished or never started here, or over
 *        the limit of frames held for operations not started yet
 * @param droppedBytes bytes of those frames
 * @param syncsSucceeded shared-state syncs that succeeded
 * @param syncsFailed shared-state syncs that failed
 * @param syncTxBytes entry bytes this peer served in successful syncs ({@link SyncInfo#txBytes()})
 * @param syncRxBytes entry bytes this peer received in successful syncs
 * @param sharedStateRevision the revision after the last successful sync, -1 before the first
 * @param topologyUpdatesSucceeded {@link Communicator#updateTopology()} calls that succeeded
 * @param topologyUpdatesFailed {@link Communicator#updateTopology()} calls that failed
 * @param optimizationsSucceeded {@link Communicator#optimizeTopology()} calls that succeeded
 * @param optimizationsFailed {@link Communicator#optimizeTopology()} calls that failed
 * @since 0.1
 */
public record CommunicatorStats(int peerGroupWorldSize, int allReducesInFlight, long allReducesSucceeded,
                                long allReducesFailed, long allReduceTxBytes, long allReduceRxBytes,
                                long allReduceRetryRounds, long droppedFrames, long droppedBytes, long syncsSucceeded,
                                long syncsFailed, long syncTxBytes, long syncRxBytes, long sharedStateRevision,
                                long topologyUpdatesSucceeded, long topologyUpdatesFailed,
                                long optimizationsSucceeded, long optimizationsFailed) {
}
