package io.pccl.master;

import io.pccl.transport.ConnectionSlots;

/**
 * What one master control connection may use, as configured on {@link Master.Builder}.
 *
 * @param maxFrameBytes largest control frame accepted
 * @param readerIdleMs a connection silent this long is closed, and one whose message backlog over its rate limit
 *     would take longer than this to drain is kicked; 0 turns both off
 * @param messagesPerSecond sustained messages a second a connection may send before its reads are paused
 * @param messageBurst messages a connection may send at once before the rate applies
 * @param slots the master-wide limit on open connections, shared by all connections
 *
 * <p>Thread-safe (immutable; {@link ConnectionSlots} is thread-safe).
 */
record ConnectionLimits(int maxFrameBytes, long readerIdleMs, int messagesPerSecond, int messageBurst,
                        ConnectionSlots slots) {
}
