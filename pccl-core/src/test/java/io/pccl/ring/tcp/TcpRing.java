package io.pccl.ring.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.pccl.ReduceDescriptor;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.RingAllReduce;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.transport.netty.NettyTransport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * W peers in one JVM connected in a ring over loopback TCP (port 0), each with a {@link TcpRingTransport}.
 *
 * <p>Not thread-safe; confined to the test thread.
 */
final class TcpRing implements AutoCloseable {
    final EventLoopGroup group;
    final InboundRouter[] routers;
    final TcpRingTransport[] transports;
    final Channel[] servers;
    final List<List<Channel>> peerChannels = new ArrayList<>();

    TcpRing(final int w, final int poolSize, final int maxPayloadBytes) throws InterruptedException {
        this(w, poolSize, maxPayloadBytes, TcpRingTransport.DEFAULT_HIGH_WATER_BYTES);
    }

    TcpRing(final int w, final int poolSize, final int maxPayloadBytes, final int highWaterBytes)
            throws InterruptedException {
        this(w, poolSize, maxPayloadBytes, highWaterBytes, 2, -1);
    }

    TcpRing(final int w, final int poolSize, final int maxPayloadBytes, final int highWaterBytes, final int loops)
            throws InterruptedException {
        this(w, poolSize, maxPayloadBytes, highWaterBytes, loops, -1);
    }

    /** As above; {@code maxBufferedBytes} > 0 sets the inbound flow-control limit, otherwise the default. */
    TcpRing(final int w, final int poolSize, final int maxPayloadBytes, final int highWaterBytes, final int loops,
            final long maxBufferedBytes) throws InterruptedException {
        group = NettyTransport.newEventLoopGroup(loops, "tcp-ring-test");
        routers = new InboundRouter[w];
        transports = new TcpRingTransport[w];
        servers = new Channel[w];
        for (int i = 0; i < w; i++) {
            peerChannels.add(new ArrayList<>());
        }
        for (int i = 0; i < w; i++) {
            final int rank = i;
            routers[i] = new InboundRouter(256L << 20, TimeUnit.SECONDS.toNanos(30));
            servers[i] = new ServerBootstrap().group(group).channel(NettyTransport.serverChannelClass())
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(final SocketChannel ch) {
                            synchronized (peerChannels) {
                                peerChannels.get(rank).add(ch);
                            }
                            // As the peer listener does: payloads can then be read straight into place.
                            PlacingRecvByteBufAllocator.install(ch);
                            final String pred = "peer" + Math.floorMod(rank - 1, w);
                            if (maxBufferedBytes > 0) {
                                DataFrameInboundHandler.install(ch.pipeline(), routers[rank], maxPayloadBytes, pred,
                                        maxBufferedBytes);
                            } else {
                                DataFrameInboundHandler.install(ch.pipeline(), routers[rank], maxPayloadBytes, pred);
                            }
                        }
                    })
                    .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).sync().channel();
        }
        for (int i = 0; i < w; i++) {
            final int succ = (i + 1) % w;
            final Channel[] chs = new Channel[poolSize];
            for (int k = 0; k < poolSize; k++) {
                chs[k] = new Bootstrap().group(group).channel(NettyTransport.channelClass())
                        .option(ChannelOption.TCP_NODELAY, true)
                        .handler(new ChannelInboundHandlerAdapter())
                        .connect(servers[succ].localAddress()).sync().channel();
                peerChannels.get(i).add(chs[k]);
            }
            transports[i] = new TcpRingTransport(chs, routers[i], "peer" + succ, highWaterBytes);
        }
    }

    /**
     * Starts one operation on every rank (ring ids 1..W, rank r on {@code send[r]} and {@code recv[r]}) and waits
     * for all of them.
     *
     * @param timeoutSeconds the bound on each operation's wait
     */
    void allReduce(final RingAllReduce engine, final long seq, final ReduceDescriptor descriptor,
                   final ByteBuffer[] send, final ByteBuffer[] recv, final long timeoutSeconds) throws Exception {
        final int w = transports.length;
        final long[] ring = new long[w];
        for (int r = 0; r < w; r++) {
            ring[r] = r + 1;
        }
        final RingOperation[] ops = new RingOperation[w];
        for (int r = 0; r < w; r++) {
            ops[r] = engine.start(new RingOpContext(ring, r, seq, descriptor, send[r], recv[r], transports[r]));
        }
        for (final RingOperation op : ops) {
            op.future().get(timeoutSeconds, TimeUnit.SECONDS);
        }
    }

    /** The inbound handlers of the data connections {@code rank} accepted from its predecessor. */
    List<DataFrameInboundHandler> inboundHandlers(final int rank) {
        final List<DataFrameInboundHandler> out = new ArrayList<>();
        synchronized (peerChannels) {
            for (final Channel ch : peerChannels.get(rank)) {
                final DataFrameInboundHandler h = (DataFrameInboundHandler) ch.pipeline()
                        .get(DataFrameInboundHandler.DATA_FRAME_HANDLER);
                if (h != null) {
                    out.add(h);
                }
            }
        }
        return out;
    }

    /** Closes every connection that touches {@code rank} and its listener. */
    void kill(final int rank) throws InterruptedException {
        servers[rank].close().sync();
        final List<Channel> chs;
        synchronized (peerChannels) {
            chs = new ArrayList<>(peerChannels.get(rank));
        }
        for (final Channel ch : chs) {
            ch.close().sync();
        }
    }

    @Override
    public void close() throws InterruptedException {
        for (final Channel s : servers) {
            s.close().sync();
        }
        final List<Channel> all = new ArrayList<>();
        synchronized (peerChannels) {
            for (final List<Channel> chs : peerChannels) {
                all.addAll(chs);
            }
        }
        for (final Channel ch : all) {
            ch.close().sync();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }
}
