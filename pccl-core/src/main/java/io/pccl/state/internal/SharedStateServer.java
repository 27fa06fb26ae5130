package io.pccl.state.internal;

import io.netty.channel.Channel;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.LengthFieldBasedFrameDecoder;
import io.netty.handler.codec.protobuf.ProtobufDecoder;
import io.netty.handler.timeout.IdleStateHandler;
import io.pccl.SharedState;
import io.pccl.proto.Envelope;
import io.pccl.proto.Hello;
import io.pccl.transport.Envelopes;
import io.pccl.transport.ProtocolConstants;
import io.pccl.transport.netty.ControlPipeline;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The distributor side of shared-state sync: takes over {@code ROLE_SHARED_STATE} connections accepted on the
 * peer port and answers {@code SharedStateFetchRequest}s from the state currently served.
 *
 * <p>The sync flow calls {@link #serve(SharedState)} <em>before</em> sending its vote (so a fast requester never
 * reaches a distributor that has not started serving) and {@link #stopServing()} when the sync is done;
 * {@link #takeTxBytes()} reports the entry bytes delivered meanwhile. Requests while nothing is served are
 * answered with {@code ok = false}, code FAILED_PRECONDITION.
 *
 * <p>Wiring: register {@code server::onAccepted} as the peer listener's role handler for
 * {@code ROLE_SHARED_STATE} (same signature and contract as {@code RoleHandler.onAccepted}).
 *
 * <p>Thread-safe.
 */
public final class SharedStateServer {
    /** Default bound on a connection with neither reads nor write progress. */
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(30);
    static final String HANDLER_NAME = "pcclSharedStateServe";
    static final String IDLE_HANDLER_NAME = "pcclSharedStateIdle";
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(1 << 20, 4 << 20);

    private final LongSupplier selfId;
    private final long idleTimeoutNs;
    private final AtomicLong txBytes = new AtomicLong();
    /** Responses whose bytes are still being written; guarded by {@code this}. */
    private int responsesInFlight;
    private volatile Served served;

    /**
     * Creates a server.
     *
     * @param selfId supplies this peer's id for the hello-ack (0 before registration)
     * @param idleTimeout a connection with no reads and no write progress for this long is closed
     */
    public SharedStateServer(final LongSupplier selfId, final Duration idleTimeout) {
        this.selfId = Objects.requireNonNull(selfId, "selfId");
        this.idleTimeoutNs = Objects.requireNonNull(idleTimeout, "idleTimeout").toNanos();
        if (idleTimeoutNs <= 0) {
            throw new IllegalArgumentException("idleTimeout " + idleTimeout + " must be positive");
        }
    }

    /**
     * Starts serving {@code state}: its revision is captured now, its entries are read when requested. Replaces
     * any state served before.
     *
     * @param state the state to serve; its memory must not change until {@link #stopServing()}
     */
    public void serve(final SharedState state) {
        served = new Served(Objects.requireNonNull(state, "state"), state.revision());
    }

    /** Stops serving; later requests get {@code ok = false}. Transfers already streaming finish. */
    public void stopServing() {
        served = null;
    }

    /**
     * Entry bytes fully written to requesters since the last call, and resets the count.
     *
     * @return bytes served
     */
    public long takeTxBytes() {
        return txBytes.getAndSet(0);
    }

    /**
     * Takes over a connection whose hello announced {@code ROLE_SHARED_STATE}. Must be called on the channel's
     * event loop with the listener's hello handler already removed; the control codec may or may not be
     * installed. Answers the hello-ack and from then on owns the channel.
     *
     * @param hello the validated hello (its peer id names the requester in logs)
     * @param channel the accepted channel
     */
    public void onAccepted(final Hello hello, final Channel channel) {
        final ChannelPipeline p = channel.pipeline();
        // Responses are control frames followed by raw bytes, so this side encodes frames by hand.
        if (p.get(ControlPipeline.PROTOBUF_ENCODER) != null) {
            p.remove(ControlPipeline.PROTOBUF_ENCODER);
        }
        if (p.get(ControlPipeline.FRAME_ENCODER) != null) {
            p.remove(ControlPipeline.FRAME_ENCODER);
        }
        if (p.get(ControlPipeline.FRAME_DECODER) == null) {
            p.addLast(ControlPipeline.FRAME_DECODER, new LengthFieldBasedFrameDecoder(
                    ProtocolConstants.MAX_CONTROL_FRAME_BYTES + ProtocolConstants.LENGTH_PREFIX_BYTES, 0,
                    ProtocolConstants.LENGTH_PREFIX_BYTES, 0, ProtocolConstants.LENGTH_PREFIX_BYTES, true));
            p.addLast(ControlPipeline.PROTOBUF_DECODER, new ProtobufDecoder(Envelope.getDefaultInstance()));
        }
        channel.config().setWriteBufferWaterMark(WATER_MARK);
        p.addFirst(IDLE_HANDLER_NAME, new IdleStateHandler(true, 0, 0, idleTimeoutNs, TimeUnit.NANOSECONDS));
        p.addLast(HANDLER_NAME, new ServeHandler(this, hello.getPeerId()));
        channel.writeAndFlush(Frames.encode(channel.alloc(), Envelopes.helloAck(selfId.getAsLong())));
    }

    /**
     * Waits until no response is being written (each one either delivered its last byte, and was counted in
     * {@link #takeTxBytes()}, or its connection closed). The sync flow calls it after the master's completion,
     * when every requester has its bytes, so that the count includes the last response.
     *
     * @param timeoutNs the bound
     * @return true if no response is in flight, false if the bound passed first
     */
    public boolean awaitNoResponsesInFlight(final long timeoutNs) {
        final long deadline = System.nanoTime() + timeoutNs;
        synchronized (this) {
            while (responsesInFlight > 0) {
                final long leftNs = deadline - System.nanoTime();
                if (leftNs <= 0) {
                    return false;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, leftNs);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
            return true;
        }
    }

    synchronized void responseStarted() {
        responsesInFlight++;
    }

    synchronized void responseEnded() {
        responsesInFlight--;
        notifyAll();
    }

    Served served() {
        return served;
    }

    long selfId() {
        return selfId.getAsLong();
    }

    void addTxBytes(final long bytes) {
        txBytes.addAndGet(bytes);
    }

    /** The state being served and its revision at {@link #serve} time. Thread-safe (immutable reference). */
    static final class Served {
        final SharedState state;
        final long revision;

        Served(final SharedState state, final long revision) {
            this.state = state;
            this.revision = revision;
        }
    }
}
