package io.pccl.ring.tcp;

import io.netty.channel.Channel;
import io.netty.channel.WriteBufferWaterMark;
import io.pccl.ring.InboundRouter;
import io.pccl.ring.RingLink;
import io.pccl.ring.RingTransport;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@link RingTransport} over Netty channels. Outbound: one {@link TcpRingLink} per connection to the successor
 * (operation {@code seq} uses {@code successors[seq mod n]}); its handler is added first to each channel's pipeline.
 * Inbound: the owner installs {@link DataFrameInboundHandler#install} into every data connection accepted from the
 * predecessor, routing into {@link #inbound()}.
 *
 * <p>The successor channels must already be in data mode (handshake done) and are taken over: their write-buffer
 * water marks are set to {@code [highWaterBytes / 2, highWaterBytes]}. Closing a successor channel (or its peer
 * going away) fails every operation using it; the transport stays failed for that connection.
 *
 * <p>Thread-safe.
 */
public final class TcpRingTransport implements RingTransport {
    /** Default high-water mark of a successor channel's outbound buffer. */
    public static final int DEFAULT_HIGH_WATER_BYTES = 8 << 20;

    private final TcpRingLink[] links;
    private final InboundRouter router;

    /**
     * Creates the transport with the default water marks.
     *
     * @param successors data channels to the successor, index = pool connection number
     * @param router router fed by the predecessor's channels
     * @param successorId the successor's identity, for messages
     */
    public TcpRingTransport(final Channel[] successors, final InboundRouter router, final String successorId) {
        this(successors, router, successorId, DEFAULT_HIGH_WATER_BYTES);
    }

    /**
     * Creates the transport.
     *
     * @param successors data channels to the successor, index = pool connection number
     * @param router router fed by the predecessor's channels
     * @param successorId the successor's identity, for messages
     * @param highWaterBytes outbound high-water mark per channel (producers pause above it)
     */
    public TcpRingTransport(final Channel[] successors, final InboundRouter router, final String successorId,
                            final int highWaterBytes) {
        Objects.requireNonNull(successors, "successors");
        if (successors.length < 1) {
            throw new IllegalArgumentException("successors must hold at least one channel");
        }
        this.router = Objects.requireNonNull(router, "router");
        this.links = new TcpRingLink[successors.length];
        final AtomicBoolean failureLogged = new AtomicBoolean();
        for (int i = 0; i < successors.length; i++) {
            final Channel ch = Objects.requireNonNull(successors[i], "successors[" + i + "]");
            ch.config().setWriteBufferWaterMark(new WriteBufferWaterMark(highWaterBytes / 2, highWaterBytes));
            links[i] = new TcpRingLink(ch, successorId + "#" + i, highWaterBytes, failureLogged);
            links[i].install();
        }
    }

    @Override
    public int poolSize() {
        return links.length;
    }

    @Override
    public RingLink successor(final long seq) {
        return links[RingTransport.connectionIndex(seq, links.length)];
    }

    @Override
    public InboundRouter inbound() {
        return router;
    }
}
