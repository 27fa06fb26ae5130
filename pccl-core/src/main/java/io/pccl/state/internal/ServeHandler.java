package io.pccl.state.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.pccl.SharedState;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.SharedStateFetchRequest;
import io.pccl.proto.SharedStateFetchResponse;
import io.pccl.transport.Envelopes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers fetch requests on one {@code ROLE_SHARED_STATE} connection: a response frame, then each requested
 * entry's bytes in chunks of {@link #CHUNK_BYTES}, produced only while the channel is writable (resumed on
 * {@code channelWritabilityChanged}). One request at a time; a request while streaming is a protocol violation.
 *
 * <p>Confined to the channel's event loop.
 */
final class ServeHandler extends SimpleChannelInboundHandler<Envelope> {
    /** Bytes per write; a multiple of every element size, so wide-array chunks hold whole elements. */
    static final int CHUNK_BYTES = 256 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(ServeHandler.class);

    private final SharedStateServer server;
    private final long requesterId;
    private final List<EntryIo> streaming = new ArrayList<>();
    private int current;
    private long responseBytes;
    private long bytesLeft;
    /** Responses of this connection registered in flight with the server (0 or 1, briefly 2 at a boundary). */
    private int inFlight;

    ServeHandler(final SharedStateServer server, final long requesterId) {
        this.server = server;
        this.requesterId = requesterId;
    }

    @Override
    protected void channelRead0(final ChannelHandlerContext ctx, final Envelope envelope) {
        if (envelope.getBodyCase() != Envelope.BodyCase.SHARED_STATE_FETCH_REQUEST) {
            failConnection(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, "expected SharedStateFetchRequest on a "
                    + "shared-state connection, got " + envelope.getBodyCase());
            return;
        }
        if (current < streaming.size()) {
            failConnection(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, "SharedStateFetchRequest while the previous "
                    + "response is still streaming (entry " + current + " of " + streaming.size() + ")");
            return;
        }
        answer(ctx, envelope.getSharedStateFetchRequest());
    }

    private void answer(final ChannelHandlerContext ctx, final SharedStateFetchRequest request) {
        final SharedStateServer.Served served = server.served();
        if (served == null) {
            reply(ctx, refusal(ErrorCode.ERROR_FAILED_PRECONDITION, "peer " + server.selfId()
                    + " is not distributing shared state now (no sync in progress)"));
            return;
        }
        final SharedState state = served.state;
        final SharedStateFetchResponse.Builder ok = SharedStateFetchResponse.newBuilder().setOk(true)
                .setRevision(served.revision);
        final Set<String> seen = new HashSet<>();
        streaming.clear();
        current = 0;
        responseBytes = 0;
        for (final String key : request.getKeysList()) {
            final SharedState.Entry entry = state.entry(key);
            if (entry == null || !seen.add(key)) {
                streaming.clear();
                final List<String> known = new ArrayList<>();
                for (final SharedState.Entry e : state.entries()) {
                    known.add(e.name());
                }
                reply(ctx, refusal(ErrorCode.ERROR_INVALID_ARGUMENT, entry == null
                        ? "unknown shared-state key '" + key + "'; peer " + server.selfId() + " serves " + known
                        : "duplicate key '" + key + "' in SharedStateFetchRequest"));
                return;
            }
            ok.addKeys(key).addSizesBytes(entry.sizeBytes());
            streaming.add(new EntryIo(entry));
            responseBytes += entry.sizeBytes();
        }
        bytesLeft = responseBytes;
        ctx.write(Frames.encode(ctx.alloc(), Envelope.newBuilder().setSharedStateFetchResponse(ok).build()));
        if (responseBytes > 0) {
            inFlight++;
            server.responseStarted();
        }
        pump(ctx);
    }

    /** A response in flight is over (last byte written, or the connection failed): tell the server, once each. */
    private void endResponse() {
        if (inFlight > 0) {
            inFlight--;
            server.responseEnded();
        }
    }

    /** Writes chunks while the channel is writable; counts the response as served when its last byte is out. */
    private void pump(final ChannelHandlerContext ctx) {
        while (current < streaming.size() && ctx.channel().isWritable()) {
            final EntryIo io = streaming.get(current);
            final long left = io.remaining();
            if (left == 0) {
                current++;
                continue;
            }
            final int n = (int) Math.min(CHUNK_BYTES, left);
            bytesLeft -= n;
            if (bytesLeft == 0) {
                final long bytes = responseBytes;
                ctx.write(io.slice(ctx.alloc(), n)).addListener(f -> {
                    if (f.isSuccess()) {
                        server.addTxBytes(bytes);
                    }
                    endResponse();
                });
                current++;
            } else {
                ctx.write(io.slice(ctx.alloc(), n), ctx.voidPromise());
            }
        }
        ctx.flush();
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        while (inFlight > 0) {
            endResponse();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable()) {
            pump(ctx);
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
        if (evt instanceof IdleStateEvent) {
            LOG.warn("peer {}: closing idle shared-state connection from peer {} ({} of {} entries sent)",
                    server.selfId(), requesterId, current, streaming.size());
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        LOG.warn("peer {}: shared-state connection from peer {} failed", server.selfId(), requesterId, cause);
        failConnection(ctx, ErrorCode.ERROR_PROTOCOL_VIOLATION, "malformed request: " + cause.getMessage());
    }

    private static Envelope refusal(final ErrorCode code, final String reason) {
        return Envelope.newBuilder().setSharedStateFetchResponse(SharedStateFetchResponse.newBuilder()
                .setOk(false).setCode(code).setReason(reason)).build();
    }

    private static void reply(final ChannelHandlerContext ctx, final Envelope envelope) {
        ctx.writeAndFlush(Frames.encode(ctx.alloc(), envelope));
    }

    private void failConnection(final ChannelHandlerContext ctx, final ErrorCode code, final String reason) {
        while (inFlight > 0) {
            endResponse();
        }
        streaming.clear();
        current = 0;
        if (ctx.channel().isActive()) {
            final ChannelPromise promise = ctx.newPromise();
            ctx.writeAndFlush(Frames.encode(ctx.alloc(), Envelopes.error(code, reason)), promise);
            promise.addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.close();
        }
    }
}
