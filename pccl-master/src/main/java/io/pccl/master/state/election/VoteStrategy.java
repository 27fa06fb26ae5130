package io.pccl.master.state.election;

/**
 * A voter's sync strategy (master-local mirror of {@code io.pccl.SyncStrategy} and {@code SyncStrategyProto},
 * with the same ordinal numbers as the wire enum).
 *
 * <p>Thread-safe (immutable).
 */
public enum VoteStrategy {
    /** The most popular content wins; the voter sends or receives as needed. */
    ENFORCE_POPULAR,
    /** Never a candidate and never a distributor; receives whatever the group elects. */
    RECEIVE_ONLY,
    /** A candidate; its sync fails if it would have to receive anything. */
    SEND_ONLY
}
