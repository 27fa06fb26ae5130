package io.pccl.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link LogThrottle}: which events get a line, also when several threads count at once. */
@Timeout(30)
class LogThrottleTest {
    @Test
    void shouldLogEachPowerOfTwoOnceWhileFourThreadsCount() throws InterruptedException {
        final LogThrottle throttle = new LogThrottle();
        final int threads = 4;
        final int perThread = 10_000;
        final AtomicInteger logged = new AtomicInteger();
        final CountDownLatch go = new CountDownLatch(1);
        final Thread[] workers = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            workers[t] = new Thread(() -> {
                try {
                    go.await();
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    if (throttle.count()) {
                        logged.incrementAndGet();
                    }
                }
            });
            workers[t].start();
        }
        go.countDown();
        for (final Thread w : workers) {
            w.join(TimeUnit.SECONDS.toMillis(20));
            assertTrue(!w.isAlive(), "a counting thread did not finish");
        }
        assertEquals(40_000, throttle.events());
        // Events 1, 2, 4, ..., 32768: sixteen lines for 40 000 events.
        assertEquals(16, logged.get());
    }
}
