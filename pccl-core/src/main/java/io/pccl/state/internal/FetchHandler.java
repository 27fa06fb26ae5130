package io.pccl.state.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.timeout.IdleStateEvent;
import io.pccl.SharedState;
import io.pccl.SharedStateSyncException;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.SharedStateFetchRequest;
import io.pccl.proto.SharedStateFetchResponse;
import io.pccl.transport.Envelopes;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One fetch on one connection. Parses control frames by hand until the response, then treats every further byte
 * as entry content, written straight into the receiver's memory:
 *
 * <pre>
 *  AWAIT_ACK --HelloAck--&gt; AWAIT_RESPONSE --Response{ok}--&gt; STREAMING --last byte--&gt; DONE (verify off-loop)
 *      \____________________\___ Error / refusal / close / idle / bad frame ___\____&gt; DONE (failed)
 * </pre>
 *
 * <p>Confined to the channel's event loop (except {@link #failExternally}, which hops onto it).
 */
final class FetchHandler extends ChannelInboundHandlerAdapter {
    private enum Phase { AWAIT_ACK, AWAIT_RESPONSE, STREAMING, DONE }

    private final long selfId;
    private final SocketAddress distributor;
    private final List<FetchKey> keys;
    private final List<SharedState.Entry> entries;
    private final CompletableFuture<FetchResult> result;
    private final Executor completionExecutor;
    private final FetchObserver observer;
    private final List<EntryIo> ios = new ArrayList<>();
    private ChannelHandlerContext ctx;
    private Phase phase = Phase.AWAIT_ACK;
    private ByteBuf cumulation;
    private int current;
    private long rxBytes;
    private long expectedBytes;
    private long revision;

    FetchHandler(final long selfId, final SocketAddress distributor, final List<FetchKey> keys,
                 final List<SharedState.Entry> entries, final CompletableFuture<FetchResult> result,
                 final Executor completionExecutor, final FetchObserver observer) {
        this.selfId = selfId;
        this.distributor = distributor;
        this.keys = keys;
        this.entries = entries;
        this.result = result;
        this.completionExecutor = completionExecutor;
        this.observer = observer;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(final ChannelHandlerContext ctx) {
        ctx.writeAndFlush(Frames.encode(ctx.alloc(), Envelopes.hello(ConnectionRole.ROLE_SHARED_STATE, selfId, 0,
                0)));
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
        final ByteBuf in = (ByteBuf) msg;
        if (phase == Phase.STREAMING) {
            try {
                consume(in);
            } finally {
                in.release();
            }
            return;
        }
        if (phase == Phase.DONE) {
            in.release();
            return;
        }
        cumulation = cumulation == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(),
                cumulation, in);
        try {
            Envelope env;
            while (phase != Phase.STREAMING && phase != Phase.DONE && (env = Frames.tryDecode(cumulation)) != null) {
                onEnvelope(env);
            }
            if (phase == Phase.STREAMING && cumulation.isReadable()) {
                consume(cumulation);
            }
        } catch (final IOException e) {
            fail("bad control frame from distributor " + distributor + ": " + e.getMessage(), e);
        } finally {
            if (cumulation != null && (phase == Phase.STREAMING || phase == Phase.DONE || !cumulation.isReadable())) {
                cumulation.release();
                cumulation = null;
            }
        }
    }

    private void onEnvelope(final Envelope env) {
        switch (env.getBodyCase()) {
            case HELLO_ACK:
                if (phase != Phase.AWAIT_ACK) {
                    fail("unexpected HelloAck from distributor " + distributor + " in phase " + phase, null);
                    return;
                }
                final SharedStateFetchRequest.Builder req = SharedStateFetchRequest.newBuilder();
                for (final FetchKey k : keys) {
                    req.addKeys(k.key());
                }
                ctx.writeAndFlush(Frames.encode(ctx.alloc(), Envelope.newBuilder().setSharedStateFetchRequest(req)
                        .build()));
                phase = Phase.AWAIT_RESPONSE;
                return;
            case SHARED_STATE_FETCH_RESPONSE:
                if (phase != Phase.AWAIT_RESPONSE) {
                    fail("unexpected SharedStateFetchResponse from distributor " + distributor + " in phase "
                            + phase, null);
                    return;
                }
                onResponse(env.getSharedStateFetchResponse());
                return;
            case ERROR:
                fail("distributor " + distributor + " refused: " + env.getError().getCode() + " "
                        + env.getError().getReason(), null);
                return;
            default:
                fail("unexpected " + env.getBodyCase() + " from distributor " + distributor, null);
        }
    }

    private void onResponse(final SharedStateFetchResponse r) {
        if (!r.getOk()) {
            fail("distributor " + distributor + " refused the fetch: " + r.getCode() + " "
                    + (r.getReason().isEmpty() ? "(no reason given)" : r.getReason()), null);
            return;
        }
        if (r.getKeysCount() != keys.size() || r.getSizesBytesCount() != keys.size()) {
            fail("distributor " + distributor + " answered " + r.getKeysCount() + " keys / "
                    + r.getSizesBytesCount() + " sizes for " + keys.size() + " requested", null);
            return;
        }
        for (int i = 0; i < keys.size(); i++) {
            final SharedState.Entry e = entries.get(i);
            if (!r.getKeys(i).equals(e.name()) || r.getSizesBytes(i) != e.sizeBytes()) {
                fail("distributor " + distributor + " offers key '" + r.getKeys(i) + "' of " + r.getSizesBytes(i)
                        + " bytes at position " + i + ", expected '" + e.name() + "' of " + e.sizeBytes()
                        + " bytes", null);
                return;
            }
            ios.add(new EntryIo(e));
            expectedBytes += e.sizeBytes();
        }
        revision = r.getRevision();
        phase = Phase.STREAMING;
        skipEmpty();
        if (current == ios.size()) {
            finish();
        }
    }

    private void consume(final ByteBuf in) {
        while (in.isReadable() && current < ios.size()) {
            final EntryIo io = ios.get(current);
            final int n = (int) Math.min(in.readableBytes(), io.remaining());
            io.write(in, n);
            rxBytes += n;
            skipEmpty();
        }
        if (phase != Phase.STREAMING) {
            return;
        }
        if (observer != null) {
            observer.onBytes(ctx.channel(), distributor, rxBytes, expectedBytes);
        }
        if (current == ios.size()) {
            if (in.isReadable()) {
                fail("distributor " + distributor + " sent " + in.readableBytes() + " bytes beyond the "
                        + expectedBytes + " announced", null);
                return;
            }
            finish();
        }
    }

    private void skipEmpty() {
        while (current < ios.size() && ios.get(current).remaining() == 0) {
            current++;
        }
    }

    private void finish() {
        phase = Phase.DONE;
        ctx.close();
        // fields written on the event loop are published to the executor by execute()'s happens-before edge
        completionExecutor.execute(this::verifyAndComplete);
    }

    /** Runs on the completion executor: re-hashes every verified entry. */
    private void verifyAndComplete() {
        try {
            final List<String> names = new ArrayList<>(keys.size());
            for (int i = 0; i < keys.size(); i++) {
                final FetchKey k = keys.get(i);
                names.add(k.key());
                if (k.verify()) {
                    final long actual = entries.get(i).hash(k.hashType());
                    if (actual != k.expectedHash()) {
                        result.completeExceptionally(new SharedStateSyncException("hash mismatch for key '" + k.key()
                                + "' from distributor " + distributor + ": received content hashes to " + actual
                                + " (" + k.hashType() + "), expected " + k.expectedHash()));
                        return;
                    }
                }
            }
            result.complete(new FetchResult(revision, rxBytes, names, distributor));
        } catch (final RuntimeException e) {
            result.completeExceptionally(new SharedStateSyncException("verifying keys from distributor "
                    + distributor + " failed: " + e, e));
        }
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object evt) {
        if (evt instanceof IdleStateEvent) {
            fail("no progress from distributor " + distributor + " within the progress timeout (phase " + phase
                    + ", " + rxBytes + " of " + expectedBytes + " bytes received)", null);
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx) {
        fail("distributor " + distributor + " closed the connection (phase " + phase + ", " + rxBytes + " of "
                + expectedBytes + " bytes received)", null);
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(final ChannelHandlerContext ctx) {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
        fail("shared-state fetch from " + distributor + " failed: " + cause, cause);
    }

    /** Fails the fetch from outside the event loop (connect failure). */
    void failExternally(final SharedStateSyncException e) {
        completionExecutor.execute(() -> result.completeExceptionally(e));
    }

    private void fail(final String message, final Throwable cause) {
        if (phase == Phase.DONE) {
            return;
        }
        phase = Phase.DONE;
        ctx.close();
        final SharedStateSyncException e = new SharedStateSyncException(message, cause);
        completionExecutor.execute(() -> result.completeExceptionally(e));
    }
}
