package io.pccl.internal.collective;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.pccl.ring.InboundRouter;
import org.junit.jupiter.api.Test;

/** The data plane's routers: a dialer naming ever new peer ids does not grow them without bound. */
class RingDataPlaneTest {
    @Test
    void shouldForgetTheRoutersOfClosedConnectionsOnceTooManyAreKept() {
        final RingDataPlane plane = new RingDataPlane(1 << 20);
        final int ids = 3 * RingDataPlane.MAX_KEPT_ROUTERS;
        final EmbeddedChannel live = new EmbeddedChannel();
        plane.initIncoming(1, 0, 1, live);
        final InboundRouter liveRouter = plane.routerOf(1);
        for (int id = 2; id < 2 + ids; id++) {
            final EmbeddedChannel ch = new EmbeddedChannel();
            plane.initIncoming(id, 0, 1, ch);
            // Closing the connection fails its router.
            ch.close();
            ch.finishAndReleaseAll();
            assertTrue(plane.routerCount() <= RingDataPlane.MAX_KEPT_ROUTERS + 1,
                    plane.routerCount() + " routers kept after " + (id - 1) + " ids");
        }
        // The router of the connection still open was kept, alive, through every pruning.
        assertSame(liveRouter, plane.routerOf(1));
        assertNull(liveRouter.failure());
        assertNull(plane.routerOf(2), "the first closed id's router is still kept");
        live.finishAndReleaseAll();
    }
}
