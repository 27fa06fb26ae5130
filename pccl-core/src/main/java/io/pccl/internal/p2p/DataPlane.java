package io.pccl.internal.p2p;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import io.pccl.transport.netty.ControlPipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Switching a {@code ROLE_P2P_DATA} connection from the control codec to the data plane, and the default
 * {@link DataPlaneInitializer} used until the ring engine installs its own: it drops and counts inbound bytes.
 *
 * <p>Thread-safe (stateless apart from an atomic counter).
 */
public final class DataPlane {
    private static final Logger LOG = LoggerFactory.getLogger(DataPlane.class);
    private static final AtomicLong DISCARDED_BYTES = new AtomicLong();

    /** Default initializer: drops (and releases) every inbound byte, counting it. */
    public static final DataPlaneInitializer DISCARDING = new DataPlaneInitializer() {
        @Override
        public void initOutgoing(final long peerId, final int connectionIndex, final int poolSize,
                                 final Channel channel) {
            channel.pipeline().addLast("discard", Discard.INSTANCE);
        }

        @Override
        public void initIncoming(final long peerId, final int connectionIndex, final int poolSize,
                                 final Channel channel) {
            channel.pipeline().addLast("discard", Discard.INSTANCE);
        }
    };

    private DataPlane() {
    }

    /**
     * Bytes dropped by the discarding initializer in this JVM (diagnostics and tests).
     *
     * @return the count
     */
    public static long discardedBytes() {
        return DISCARDED_BYTES.get();
    }

    /**
     * Removes {@code handshakeHandler} and the control codec, then lets {@code install} add the data handlers.
     * Must run on the channel's event loop. The data handlers are added before the frame decoder goes, so bytes
     * already buffered in the decoder are passed to them rather than lost.
     *
     * @param pipeline the channel's pipeline
     * @param handshakeHandler the handshake handler to remove
     * @param install adds the data-plane handlers
     */
    static void switchToData(final ChannelPipeline pipeline, final ChannelHandler handshakeHandler,
                             final Runnable install) {
        pipeline.remove(handshakeHandler);
        pipeline.remove(ControlPipeline.PROTOBUF_ENCODER);
        pipeline.remove(ControlPipeline.FRAME_ENCODER);
        pipeline.remove(ControlPipeline.PROTOBUF_DECODER);
        install.run();
        pipeline.remove(ControlPipeline.FRAME_DECODER);
    }

    /** Releases and counts every inbound message; logs failures once and closes. Stateless, shared. */
    @ChannelHandler.Sharable
    private static final class Discard extends ChannelInboundHandlerAdapter {
        static final Discard INSTANCE = new Discard();

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            if (msg instanceof ByteBuf) {
                DISCARDED_BYTES.addAndGet(((ByteBuf) msg).readableBytes());
            }
            ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            LOG.warn("p2p connection {} failed, closing", ctx.channel(), cause);
            ctx.close();
        }
    }
}
