package io.pccl.transport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Decides which events of one kind a server logs when any host that reaches its port can cause them (connections
 * refused, rejected at the handshake, or closed for a malformed frame): the 1st, 2nd, 4th, 8th, ... event gets a
 * line, with the running count, so the first ones stay visible and a host opening connections in a loop cannot fill
 * the log.
 *
 * <p>Thread-safe (one atomic counter; I/O loops count concurrently).
 */
public final class LogThrottle {
    private final AtomicLong events = new AtomicLong();

    /**
     * Counts one event.
     *
     * @return whether this event should be logged
     */
    public boolean count() {
        return Long.bitCount(events.incrementAndGet()) == 1;
    }

    /**
     * @return the events counted so far
     */
    public long events() {
        return events.get();
    }
}
