package io.pccl.internal.master;

import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.pccl.master.Master;
import io.pccl.transport.netty.NettyTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer whose master-connection event loop was paused longer than its heartbeat timeout (as by a long GC pause)
 * must not declare a live master lost on resume: the master's heartbeats wait unread in the socket, and the
 * heartbeat check can run before they are read.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterConnectionPauseTest {
    private static final long INTERVAL_MS = 200;
    private static final long TIMEOUT_MS = 1_000;
    private static final long PAUSE_MS = 2_500;

    @Test
    void aPausedPeerKeepsALiveMaster() throws Exception {
        final String host = InetAddress.getLoopbackAddress().getHostAddress();
        final EventLoopGroup group = NettyTransport.newEventLoopGroup(1, "paused-peer");
        try (Master master = Master.builder().host(host).port(0).heartbeatInterval(Duration.ofMillis(100))
                .heartbeatTimeout(Duration.ofSeconds(20)).build().start();
             MasterConnection conn = new MasterConnection(group, new InetSocketAddress(host, master.port()),
                     TimeUnit.MILLISECONDS.toNanos(INTERVAL_MS), TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MS))) {
            conn.open(TimeUnit.SECONDS.toNanos(10));
            conn.register(45_000, 0, TimeUnit.SECONDS.toNanos(10));
            final EventLoop loop = group.next();
            final CountDownLatch checked = new CountDownLatch(1);
            // From the loop itself: schedule the pause 1 ms ahead, then hold the loop past a heartbeat tick. At the
            // loop's next fetch of due scheduled tasks, the pause and the tick are due together; the pause has the
            // earlier deadline, so the tick runs right after it, before the loop reads its socket again.
            loop.execute(() -> {
                loop.schedule(() -> {
                    block(PAUSE_MS);
                    // Two ticks later the verdict is in.
                    loop.schedule(checked::countDown, 2 * INTERVAL_MS, TimeUnit.MILLISECONDS);
                }, 1, TimeUnit.MILLISECONDS);
                block(INTERVAL_MS + 100);
            });
            assertTrue(checked.await(15, TimeUnit.SECONDS), "the paused loop did not resume");
            assertNull(conn.dispatcher().failure(), "a pause of " + PAUSE_MS + " ms against a heartbeat timeout of "
                    + TIMEOUT_MS + " ms must not count as the master's silence");
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    /** Stands for a pause of the process: the loop's thread does nothing for {@code ms}. */
    private static void block(final long ms) {
        final long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        long left;
        while ((left = end - System.nanoTime()) > 0) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (final InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
