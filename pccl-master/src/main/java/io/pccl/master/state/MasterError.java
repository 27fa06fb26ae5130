package io.pccl.master.state;

/**
 * Error codes the master attaches to refusals, kicks, aborts and failed outcomes. Mirrors the wire enum
 * {@code pccl.ErrorCode} one to one (the adapter maps by name), so this package needs no protobuf types.
 *
 * <p>Thread-safe (immutable).
 */
public enum MasterError {
    /** No specific code; used for aborts caused by another peer (its loss or its local failure). */
    UNSPECIFIED,
    /** Malformed frame, wrong magic/version, message illegal in the sender's state. */
    PROTOCOL_VIOLATION,
    /** A value in the message is out of range. */
    INVALID_ARGUMENT,
    /** The request is not allowed now (e.g. loopback/non-loopback mixing). */
    FAILED_PRECONDITION,
    /** The master removed this peer; the reason says why. */
    KICKED,
    /** The master is closing. */
    SHUTTING_DOWN,
    /** A bug. */
    INTERNAL,
    /** Peers launched the same tag with different parameters. */
    COLLECTIVE_MISMATCH,
    /** A shared-state vote broke a rule (key set, strategy, no candidate). */
    SHARED_STATE_MISMATCH,
    /** A shared-state revision did not advance by exactly one. */
    REVISION_VIOLATION,
    /** The master is at a resource limit (its connection limit); the reason names it. Retry later. */
    RESOURCE_EXHAUSTED
}
