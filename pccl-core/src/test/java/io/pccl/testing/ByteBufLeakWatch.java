package io.pccl.testing;

import io.netty.buffer.AbstractByteBuf;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Collects the buffer leaks Netty's leak detector reports while the watch is open, so that a test can fail on them
 * instead of only logging them. The detector reports a leak when a later tracked allocation finds a garbage-collected
 * buffer that was never released; {@link #leaks()} provokes that with a few collections and allocations. A leak it
 * misses is a false negative (garbage collection is not deterministic), never a false alarm. Useful only with leak
 * detection enabled (the build runs tests at {@code paranoid}).
 *
 * <p>Thread-safe. One watch at a time per JVM: it takes over the detector's single listener.
 */
public final class ByteBufLeakWatch implements AutoCloseable {
    private static final int COLLECTIONS = 5;
    private static final int PROBES = 64;

    private final ResourceLeakDetector<?> detector;
    private final List<String> reported = new CopyOnWriteArrayList<>();

    /** Starts watching, after letting leaks from earlier tests in this JVM surface and forgetting them. */
    public ByteBufLeakWatch() throws ReflectiveOperationException {
        final Field field = AbstractByteBuf.class.getDeclaredField("leakDetector");
        field.setAccessible(true);
        detector = (ResourceLeakDetector<?>) field.get(null);
        detector.setLeakListener((type, records) -> reported.add(type + " leaked; " + records));
        leaks();
        reported.clear();
    }

    /**
     * @return the leaks reported since the watch started, after provoking reports of buffers already collectable
     */
    public List<String> leaks() {
        for (int i = 0; i < COLLECTIONS; i++) {
            System.gc();
            for (int k = 0; k < PROBES; k++) {
                final ByteBuf probe = PooledByteBufAllocator.DEFAULT.directBuffer(8);
                probe.release();
            }
        }
        return new ArrayList<>(reported);
    }

    @Override
    public void close() {
        detector.setLeakListener(null);
    }
}
