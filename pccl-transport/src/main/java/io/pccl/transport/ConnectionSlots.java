package io.pccl.transport;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A limit on open connections, shared by every connection of one server (the master's control port, a peer's
 * port): a connection takes a slot when it opens and gives it back when it closes; one that finds none free is
 * refused before anything it sends is read.
 *
 * <p>Thread-safe (one atomic counter; handlers on different I/O loops take and return slots concurrently).
 */
public final class ConnectionSlots {
    private final int max;
    private final AtomicInteger open = new AtomicInteger();
    private final LogThrottle refusals = new LogThrottle();

    /**
     * @param max the most connections open at once, at least 1
     */
    public ConnectionSlots(final int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max connections must be >= 1, got " + max);
        }
        this.max = max;
    }

    /**
     * Takes a slot if one is free.
     *
     * @return whether the caller now holds a slot (and must {@link #release} it)
     */
    public boolean tryAcquire() {
        while (true) {
            final int n = open.get();
            if (n >= max) {
                return false;
            }
            if (open.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Returns a slot taken with {@link #tryAcquire}. */
    public void release() {
        open.decrementAndGet();
    }

    /**
     * Counts a connection refused for want of a slot and says whether to log it ({@link LogThrottle}).
     *
     * @return whether this refusal should be logged
     */
    public boolean countRefusal() {
        return refusals.count();
    }

    /** Connections refused since the server started. */
    public long refused() {
        return refusals.events();
    }

    /**
     * The reason a refused connection is given.
     *
     * @param owner whose limit, e.g. "master" or "peer port"
     * @return "the OWNER's connection limit is reached (N open, limit M)"
     */
    public String limitReached(final String owner) {
        return "the " + owner + "'s connection limit is reached (" + open.get() + " open, limit " + max + ")";
    }

    /** Connections holding a slot now. */
    public int open() {
        return open.get();
    }

    /** The limit. */
    public int max() {
        return max;
    }
}
