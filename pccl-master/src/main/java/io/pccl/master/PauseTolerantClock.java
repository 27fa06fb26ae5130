package io.pccl.master;

import java.util.function.LongSupplier;

/**
 * The master's clock for its timeouts: a monotonic nanosecond source from which the times the master did not run
 * are cut out. Between two reads it never advances by more than {@code maxStepNs}; a longer gap means the master
 * was paused (SIGSTOP, a long GC pause, a frozen VM) or starved, and only {@code maxStepNs} of it counts.
 *
 * <p>Why: after a pause, the master's periodic checks can run before it has read what its peers sent meanwhile
 * (heartbeats, a register request sitting in the socket). Judged by wall time, every peer would look silent for
 * the length of the pause and be removed although nothing was wrong with it. Judged by this clock, silence is what
 * the master could have observed while it ran. A peer that really vanished is still found, at most a pause later.
 * The master reads this clock at least every work period (at most 100 ms), far below {@code maxStepNs}.
 *
 * <p>Not thread-safe: confined to the master's conductor thread, like everything that reads it.
 */
final class PauseTolerantClock implements LongSupplier {
    private final LongSupplier source;
    private final long maxStepNs;
    private long lastSourceNs;
    private long pausedNs;

    /**
     * @param source the raw monotonic clock ({@code System::nanoTime})
     * @param maxStepNs the most one gap between reads may count; must be positive
     */
    PauseTolerantClock(final LongSupplier source, final long maxStepNs) {
        if (maxStepNs <= 0) {
            throw new IllegalArgumentException("maxStepNs must be positive, got " + maxStepNs);
        }
        this.source = source;
        this.maxStepNs = maxStepNs;
        this.lastSourceNs = source.getAsLong();
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

    /** Nanoseconds cut out so far (the pauses beyond {@code maxStepNs} each). */
    long pausedNs() {
        return pausedNs;
    }
}
