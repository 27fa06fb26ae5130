package io.pccl.ring;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes that {@link InboundRouter}s may hold for operations this peer has not started yet, shared by every router
 * of one data plane. Each incoming connection names its own dialer's peer id and gets that id's router, so a
 * budget per router would let a dialer that names many ids (confused, or hostile: nothing authenticates the id)
 * hold one budget per id; shared, all of them together hold at most one.
 *
 * <p>Thread-safe (one atomic counter).
 */
public final class ParkingBudget {
    private final long maxBytes;
    private final AtomicLong used = new AtomicLong();

    /**
     * @param maxBytes most bytes parked at once over all routers sharing this budget, at least 0
     */
    public ParkingBudget(final long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("parking budget " + maxBytes + " bytes must be >= 0");
        }
        this.maxBytes = maxBytes;
    }

    /**
     * Takes {@code bytes} from the budget if they fit.
     *
     * @param bytes at least 0
     * @return whether they were taken (and must be {@link #release}d)
     */
    boolean tryReserve(final long bytes) {
        while (true) {
            final long now = used.get();
            if (now + bytes > maxBytes) {
                return false;
            }
            if (used.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** Gives back bytes taken with {@link #tryReserve}. */
    void release(final long bytes) {
        used.addAndGet(-bytes);
    }

    /** Bytes parked now over all routers sharing the budget. */
    public long usedBytes() {
        return used.get();
    }

    /** The limit. */
    public long maxBytes() {
        return maxBytes;
    }
}
