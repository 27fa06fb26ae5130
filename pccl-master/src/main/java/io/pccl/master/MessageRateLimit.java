package io.pccl.master;

/**
 * The message budget of one master connection: a bucket of {@code burst} messages that refills at {@code perSecond}
 * messages a second. It is kept as a single instant, the time at which the bucket would be full again (the generic
 * cell rate algorithm), so it needs no timer and allocates nothing: each message moves that instant on by one
 * message's worth of time, and a connection whose instant is more than a burst's worth ahead of now has spent its
 * budget and must wait for the difference.
 *
 * <p>Confined to the connection's event loop.
 */
final class MessageRateLimit {
    private final int perSecond;
    private final long nsPerMessage;
    private final long burstNs;
    /** When the bucket is full again; at or before now when it is full. */
    private long fullAtNs = Long.MIN_VALUE;

    /**
     * @param perSecond sustained messages per second, at least 1
     * @param burst messages accepted at once from a full bucket, at least 1
     */
    MessageRateLimit(final int perSecond, final int burst) {
        if (perSecond < 1 || burst < 1) {
            throw new IllegalArgumentException("message rate " + perSecond + "/s and burst " + burst
                    + " must both be >= 1");
        }
        this.perSecond = perSecond;
        this.nsPerMessage = Math.max(1, 1_000_000_000L / perSecond);
        // A full bucket passes `burst` messages at once: the last of them may be (burst - 1) messages ahead.
        this.burstNs = (burst - 1) * nsPerMessage;
    }

    /**
     * Charges one message at {@code nowNs} (whether it was within the budget is the caller's check, with
     * {@link #waitNs}).
     *
     * @param nowNs the current time, from a monotonic clock
     * @return how long, in nanoseconds, the next message must wait; 0 if it may pass now
     */
    long spend(final long nowNs) {
        fullAtNs = Math.max(fullAtNs, nowNs) + nsPerMessage;
        return waitNs(nowNs);
    }

    /**
     * How long the next message must wait, without charging anything.
     *
     * @param nowNs the current time, from the same clock as {@link #spend}
     * @return nanoseconds until a message may pass; 0 if one may pass now
     */
    long waitNs(final long nowNs) {
        return fullAtNs == Long.MIN_VALUE ? 0 : Math.max(0, fullAtNs - nowNs - burstNs);
    }

    /** The budget one message takes, in nanoseconds. */
    long nsPerMessage() {
        return nsPerMessage;
    }

    /** The sustained rate. */
    int perSecond() {
        return perSecond;
    }
}
