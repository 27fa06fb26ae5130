package io.pccl.bench.internal;

import io.netty.util.internal.PlatformDependent;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * Samples the off-heap memory a peer uses beyond a baseline while a benchmark runs: JDK direct buffers plus
 * Netty's cleaner-less direct allocations, every millisecond on a daemon thread. The peak of the sum minus the
 * value at {@link #start()} is the extra memory the library needed (the data path keeps tensors off the heap;
 * heap use is not sampled because garbage awaiting collection would dominate it).
 *
 * <p>Thread-safe: {@code start} and {@code stop} are called from one thread, sampling happens on another.
 */
public final class MemoryProbe {
    private final List<BufferPoolMXBean> pools =
            ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    private volatile boolean running;
    private volatile long peak;
    private long baseline;
    private Thread sampler;

    /** Records the baseline and starts sampling. */
    public void start() {
        baseline = sample();
        peak = baseline;
        running = true;
        sampler = new Thread(() -> {
            while (running) {
                final long s = sample();
                if (s > peak) {
                    peak = s;
                }
                try {
                    Thread.sleep(1);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "memory-probe");
        sampler.setDaemon(true);
        sampler.start();
    }

    /**
     * Stops sampling.
     *
     * @return the peak extra bytes over the baseline, or 0 if never started
     */
    public long stop() {
        if (sampler == null) {
            return 0;
        }
        running = false;
        try {
            sampler.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return Math.max(0, peak - baseline);
    }

    private long sample() {
        long total = 0;
        for (BufferPoolMXBean p : pools) {
            if ("direct".equals(p.getName())) {
                total += p.getMemoryUsed();
            }
        }
        if (PlatformDependent.useDirectBufferNoCleaner()) {
            total += PlatformDependent.usedDirectMemory();
        }
        return total;
    }
}
