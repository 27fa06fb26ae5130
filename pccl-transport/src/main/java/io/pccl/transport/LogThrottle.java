package io.pccl.transport;

import org.slf4j.Logger;

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
     * Counts and logs a connection this server refused at a handshake (shared key, TLS): the throttled events at
     * WARN with their number, the others at DEBUG.
     *
     * @param log the server's logger
     * @param remote the connection's remote address
     * @param why the reason, as the refusal states it
     */
    public void refusedHandshake(final Logger log, final Object remote, final String why) {
        if (count()) {
            log.warn("refusing connection from {}: {} (handshake failure #{}; #1, #2, #4, ... are logged at WARN)",
                    remote, why, events());
        } else {
            log.debug("refusing connection from {}: {}", remote, why);
        }
    }

    /**
     * @return the events counted so far
     */
    public long events() {
        return events.get();
    }
}
