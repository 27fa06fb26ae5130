package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import io.pccl.PeerLostException;
import io.pccl.ring.InboundRouter;
import io.pccl.transport.data.DataFrameDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;

/**
 * End of an inbound data-plane pipeline (a connection from the ring predecessor): hands each decoded frame to the
 * {@link InboundRouter}, and tells the router the predecessor is lost when the connection closes. Owns
 * {@code exceptionCaught}: logs once and closes the channel (a decoder error means the stream cannot be trusted).
 *
 * <pre>
 *  inbound: [DATA_FRAME_DECODER (DataFrameDecoder)] -&gt; [DATA_FRAME_HANDLER (this)] -&gt; router
 * </pre>
 *
 * <p>Confined to the channel's event loop (one instance per channel).
 */
public final class DataFrameInboundHandler extends ChannelInboundHandlerAdapter {
    /** Pipeline name of the frame decoder. */
    public static final String DATA_FRAME_DECODER = "pcclDataFrameDecoder";
    /** Pipeline name of this handler. */
    public static final String DATA_FRAME_HANDLER = "pcclDataFrameHandler";

    private static final Logger LOG = LoggerFactory.getLogger(DataFrameInboundHandler.class);

    private final InboundRouter router;
    private final String peer;
    private boolean failed;

    /**
     * Creates the handler.
     *
     * @param router where frames go
     * @param peer the predecessor's identity, for messages
     */
    public DataFrameInboundHandler(final InboundRouter router, final String peer) {
        this.router = Objects.requireNonNull(router, "router");
        this.peer = Objects.requireNonNull(peer, "peer");
    }

    /**
     * Appends the data-plane decoder and a handler routing into {@code router} to an inbound pipeline (after the
     * handshake, with the control codec already removed).
     *
     * @param pipeline the channel's pipeline
     * @param router where frames go
     * @param maxPayloadBytes largest accepted payload (at least every sender's slice size)
     * @param peer the predecessor's identity, for messages
     */
    public static void install(final ChannelPipeline pipeline, final InboundRouter router, final int maxPayloadBytes,
                               final String peer) {
        pipeline.addLast(DATA_FRAME_DECODER, new DataFrameDecoder(maxPayloadBytes));
        pipeline.addLast(DATA_FRAME_HANDLER, new DataFrameInboundHandler(router, peer));
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        if (msg instanceof ByteBuf) {
            // Ownership passes to the router.
            router.onFrame((ByteBuf) msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        router.onPredecessorLost(new PeerLostException("data connection from predecessor " + peer + " ("
                + ctx.channel().remoteAddress() + ") closed"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        if (!failed) {
            failed = true;
            LOG.warn("{}: data connection from predecessor failed, closing {}", peer, ctx.channel(), cause);
        }
        ctx.close();
    }
}
