package io.pccl.master;

import io.pccl.transport.ConnectionSlots;

/**
 * What one master control connection may use, as configured on {@link Master.Builder}.
 *
 * <p>Thread-safe (immutable; {@link ConnectionSlots} is thread-safe).
 *
 * @param maxFrameBytes largest control frame accepted
 * @param readerIdleMs a connection whose reads were paused this long (it does not read the master's answers, or
 *     its backlog over its rate limit would take longer than this to drain) is closed or kicked; 0 turns it off.
 *     Plain silence is not judged here but on the master's pause-tolerant clock
 *     ({@code io.pccl.transport.PauseTolerantClock})
 * @param messagesPerSecond messages a second a connection may send, and as many at once, before its reads pause
 * @param slots the master-wide limit on open connections, shared by all connections
 */
record ConnectionLimits(int maxFrameBytes, long readerIdleMs, int messagesPerSecond, ConnectionSlots slots) {
}
