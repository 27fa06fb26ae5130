package io.pccl.ring;

import java.util.concurrent.atomic.LongAdder;

/**
 * Frames dropped by any of a peer's {@link InboundRouter}s, summed over their lives: a router's own counts go with
 * it when its predecessor changes, this total stays (it feeds {@code Communicator.stats()}).
 *
 * <p>Thread-safe.
 */
public final class DropCounter {
    private final LongAdder frames = new LongAdder();
    private final LongAdder bytes = new LongAdder();

    void add(final int frameBytes) {
        frames.increment();
        bytes.add(frameBytes);
    }

    /**
     * @return frames dropped so far
     */
    public long frames() {
        return frames.sum();
    }

    /**
     * @return payload bytes of those frames
     */
    public long bytes() {
        return bytes.sum();
    }
}
