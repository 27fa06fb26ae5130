package io.pccl.internal.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.util.ReferenceCountUtil;
import io.pccl.proto.PeerEndpoint;
import io.pccl.transport.netty.NettyTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two peers (listener + pools each) over loopback. */
@Timeout(30)
class P2PPoolsTest {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(5);

    private EventLoopGroup group;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    /** One side: its registry, listener and pools. */
    private final class Side {
        final long id;
        final IncomingPools incoming = new IncomingPools();
        final P2PPools pools;
        final PeerListener listener;

        Side(final long id, final int poolSize) {
            this.id = id;
            this.pools = new P2PPools(group, incoming, poolSize, () -> id);
            this.listener = PeerListener.bind(group, LOOPBACK, 0, 1, incoming, () -> id,
                    pools::dataPlaneInitializer, TIMEOUT_NS);
            closeables.add(pools);
            closeables.add(listener);
        }

        PeerEndpoint endpoint() {
            return PeerEndpoint.newBuilder().setPeerId(id).setHost(LOOPBACK).setPort(listener.port()).build();
        }
    }

    @BeforeEach
    void setUp() {
        group = NettyTransport.newEventLoopGroup(2, "test-pools");
    }

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void ringOfTwoConnectsBothPoolsAndKeepsThemOnTheSameRing() {
        final Side a = new Side(1, 3);
        final Side b = new Side(2, 3);
        final List<PeerEndpoint> ring = List.of(a.endpoint(), b.endpoint());
        assertEquals(Collections.emptyList(), a.pools.establish(ring, 1, TIMEOUT_NS));
        assertEquals(Collections.emptyList(), b.pools.establish(ring, 2, TIMEOUT_NS));
        assertEquals(2, a.pools.successor());
        assertEquals(2, a.pools.predecessor());
        final Channel[] out = a.pools.outgoing(2);
        assertEquals(3, out.length);
        final Channel[] in = b.pools.incoming(1);
        assertEquals(3, in.length);
        for (int i = 0; i < 3; i++) {
            assertTrue(out[i].isActive() && in[i] != null && in[i].isActive(), "connection " + i);
        }
        // The same ring again keeps the very same channels.
        assertEquals(Collections.emptyList(), a.pools.establish(ring, 1, TIMEOUT_NS));
        assertSame(out[0], a.pools.outgoing(2)[0]);
    }

    @Test
    void bytesAfterTheHandshakeReachTheDataPlaneHandler() throws Exception {
        final Side a = new Side(1, 2);
        final Side b = new Side(2, 2);
        final CompletableFuture<String> received = new CompletableFuture<>();
        b.pools.dataPlaneInitializer(new DataPlaneInitializer() {
            @Override
            public void initOutgoing(final long peerId, final int index, final int size, final Channel ch) {
            }

            @Override
            public void initIncoming(final long peerId, final int index, final int size, final Channel ch) {
                ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
                        try {
                            received.complete(peerId + "/" + index + ":"
                                    + ((ByteBuf) msg).toString(StandardCharsets.US_ASCII));
                        } finally {
                            ReferenceCountUtil.release(msg);
                        }
                    }
                });
            }
        });
        assertEquals(Collections.emptyList(), a.pools.establish(List.of(a.endpoint(), b.endpoint()), 1, TIMEOUT_NS));
        a.pools.outgoing(2)[1].writeAndFlush(Unpooled.copiedBuffer("raw", StandardCharsets.US_ASCII));
        assertEquals("1/1:raw", received.get(5, TimeUnit.SECONDS));
    }

    @Test
    void unreachableSuccessorIsReported() throws Exception {
        final Side a = new Side(1, 2);
        final int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        final PeerEndpoint ghost = PeerEndpoint.newBuilder().setPeerId(9).setHost(LOOPBACK).setPort(closedPort)
                .build();
        assertEquals(List.of(9L), a.pools.establish(List.of(a.endpoint(), ghost), 1, TIMEOUT_NS));
        assertEquals(0, a.pools.outgoing(9).length);
    }

    @Test
    void wrongPeerAtTheEndpointIsReported() {
        final Side a = new Side(1, 1);
        final Side b = new Side(2, 1);
        final PeerEndpoint lie = b.endpoint().toBuilder().setPeerId(5).build();
        assertEquals(List.of(5L), a.pools.establish(List.of(a.endpoint(), lie), 1, TIMEOUT_NS));
    }

    @Test
    void ringChangeClosesPoolsToFormerNeighbours() throws Exception {
        final Side a = new Side(1, 2);
        final Side b = new Side(2, 2);
        final Side c = new Side(3, 2);
        assertEquals(Collections.emptyList(), a.pools.establish(List.of(a.endpoint(), b.endpoint()), 1, TIMEOUT_NS));
        final Channel oldOut = a.pools.outgoing(2)[0];
        final Channel oldIn = b.pools.incoming(1)[0];
        assertNotNull(oldIn);
        // New ring a -> c -> b -> a: a's successor is now c; b's predecessor is c.
        final List<PeerEndpoint> ring = List.of(a.endpoint(), c.endpoint(), b.endpoint());
        assertEquals(Collections.emptyList(), a.pools.establish(ring, 1, TIMEOUT_NS));
        assertEquals(Collections.emptyList(), b.pools.establish(ring, 2, TIMEOUT_NS));
        assertTrue(oldOut.closeFuture().await(5, TimeUnit.SECONDS), "a's pool to b closed");
        assertTrue(oldIn.closeFuture().await(5, TimeUnit.SECONDS), "b's pool from a closed");
        assertEquals(0, a.pools.outgoing(2).length);
        assertEquals(2, a.pools.outgoing(3).length);
        assertEquals(3, a.pools.successor());
        assertEquals(2, a.pools.predecessor());
    }
}
