package io.pccl.ring.internal;

import java.nio.ByteBuffer;
import java.util.ArrayList;

/**
 * Reuses large direct buffers (the in-place backups) across operations, so an in-place all-reduce does not
 * allocate and zero a fresh operand-sized buffer every time (Netty's pooled allocators do not pool buffers above
 * their chunk size). Keeps at most {@code maxCachedBytes}; {@link #acquire} returns the smallest cached buffer
 * that fits, or allocates.
 *
 * <p>Thread-safe (guarded by {@code this}).
 */
public final class BufferCache {
    private final long maxCachedBytes;
    // @GuardedBy("this")
    private final ArrayList<ByteBuffer> cached = new ArrayList<>();
    // @GuardedBy("this")
    private long cachedBytes;

    /**
     * @param maxCachedBytes most bytes kept for reuse
     */
    public BufferCache(final long maxCachedBytes) {
        this.maxCachedBytes = maxCachedBytes;
    }

    /**
     * @param bytes needed capacity
     * @return a direct buffer with capacity {@code >= bytes}, position 0, limit {@code bytes}
     */
    public ByteBuffer acquire(final int bytes) {
        synchronized (this) {
            int best = -1;
            for (int i = 0; i < cached.size(); i++) {
                final int cap = cached.get(i).capacity();
                if (cap >= bytes && (best < 0 || cap < cached.get(best).capacity())) {
                    best = i;
                }
            }
            if (best >= 0) {
                final ByteBuffer b = cached.remove(best);
                cachedBytes -= b.capacity();
                b.clear().limit(bytes);
                return b;
            }
        }
        return ByteBuffer.allocateDirect(bytes);
    }

    /**
     * Returns a buffer for reuse (dropped if the cache is full).
     *
     * @param buffer a buffer from {@link #acquire}
     */
    public synchronized void release(final ByteBuffer buffer) {
        if (cachedBytes + buffer.capacity() <= maxCachedBytes) {
            cached.add(buffer);
            cachedBytes += buffer.capacity();
        }
    }

    /**
     * @return bytes currently cached
     */
    public synchronized long cachedBytes() {
        return cachedBytes;
    }
}
