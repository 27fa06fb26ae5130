package io.pccl.transport;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * A clock for silence timeouts: a monotonic nanosecond source from which the times its reader did not run are cut
 * out. Between two reads it never advances by more than {@code maxStepNs}; a longer gap means the process was
 * paused (SIGSTOP, a long GC pause, a frozen VM) or starved, and only {@code maxStepNs} of it counts.
 *
 * <p>Why: after a pause, a periodic silence check can run before the messages that arrived meanwhile (heartbeats,
 * a register request waiting in the socket) are read. Judged by wall time, every other side would look silent for
 * the length of the pause although nothing was wrong with it. Judged by this clock, silence is what the reader
 * could have observed while it ran; a side that really vanished is still found, at most one pause later. The
 * master judges its peers by it, and a peer its master.
 *
 * <p>Not thread-safe: confined to one thread (the master's conductor, or a peer's master-connection event loop),
 * like everything that reads it.
 */
public final class PauseTolerantClock implements LongSupplier {
    private static final long MAX_STEP_CAP_NS = TimeUnit.SECONDS.toNanos(1);
    private final LongSupplier source;
    private final long maxStepNs;
    private long lastSourceNs;
    private long pausedNs;

    /**
     * Creates a clock.
     *
     * @param source the raw monotonic clock ({@code System::nanoTime})
     * @param maxStepNs the most one gap between reads may count; must be positive
     * @throws IllegalArgumentException if {@code maxStepNs} is not positive
     */
    public PauseTolerantClock(final LongSupplier source, final long maxStepNs) {
        if (maxStepNs <= 0) {
            throw new IllegalArgumentException("maxStepNs must be positive, got " + maxStepNs);
        }
        this.source = source;
        this.maxStepNs = maxStepNs;
        this.lastSourceNs = source.getAsLong();
    }

    /**
     * The step for a reader that reads at least every {@code readPeriodNs} and judges silence against
     * {@code timeoutNs}: a quarter of the timeout, at most 1 s, but never under two read periods (a normal gap
     * between reads must count in full).
     *
     * @param readPeriodNs the longest normal gap between reads
     * @param timeoutNs the silence timeout judged on the clock
     * @return the step in nanoseconds
     */
    public static long maxStepNs(final long readPeriodNs, final long timeoutNs) {
        return Math.max(2 * readPeriodNs, Math.min(MAX_STEP_CAP_NS, timeoutNs / 4));
    }

    @Override
    public long getAsLong() {
        final long now = source.getAsLong();
        final long gap = now - lastSourceNs;
        if (gap > maxStepNs) {
            pausedNs += gap - maxStepNs;
        }
        lastSourceNs = now;
        return now - pausedNs;
    }

    /**
     * Nanoseconds cut out so far (the part of each gap beyond {@code maxStepNs}).
     *
     * @return the paused time
     */
    public long pausedNs() {
        return pausedNs;
    }
}
