package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultEventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.pccl.master.state.MasterError;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.DataTypeProto;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.EstablishP2PRequest;
import io.pccl.proto.HashTypeProto;
import io.pccl.proto.Hello;
import io.pccl.proto.KeyFetch;
import io.pccl.proto.P2PConnectionsEstablished;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.PeersPendingQuery;
import io.pccl.proto.PeersPendingResponse;
import io.pccl.proto.RegisterRequest;
import io.pccl.proto.SharedStateEntryInfo;
import io.pccl.proto.SyncSharedStateComplete;
import io.pccl.proto.SyncSharedStateDone;
import io.pccl.proto.SyncSharedStateRequest;
import io.pccl.proto.SyncSharedStateResponse;
import io.pccl.proto.SyncStrategyProto;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.Envelopes;
import io.pccl.transport.PauseTolerantClock;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The adapter through {@link EmbeddedChannel}: the real control pipeline and handler, a conductor running
 * inline (as on the conductor's own event loop) and a manual clock; frames in, frames out. One test puts the
 * conductor on another executor, as for a connection served by another I/O loop.
 */
class MasterChannelHandlerTest {
    private long nowNs = 1_000;
    private final MasterConductor conductor = new MasterConductor(ImmediateEventExecutor.INSTANCE, () -> nowNs,
            TimeUnit.SECONDS.toNanos(5));
    private final EmbeddedChannel channel = newChannel(conductor);

    private static EmbeddedChannel newChannel(final MasterConductor c) {
        return newChannel(c, limits(new ConnectionSlots(Integer.MAX_VALUE), 1_000_000_000, 0));
    }

    private static EmbeddedChannel newChannel(final MasterConductor c, final ConnectionLimits limits) {
        final EmbeddedChannel ch = new EmbeddedChannel();
        // The rate limit reads the loop's clock: frozen, it moves only with advanceTimeBy.
        ch.freezeTime();
        MasterChannelInitializer.install(ch.pipeline(), c, limits);
        ch.pipeline().fireChannelActive();
        return ch;
    }

    /** 1 KiB frames and the given connection slots, message rate (burst the same) and heartbeat timeout. */
    private static ConnectionLimits limits(final ConnectionSlots slots, final int perSecond, final long idleMs) {
        return new ConnectionLimits(1024, idleMs, perSecond, slots);
    }

    @AfterEach
    void release() {
        channel.finishAndReleaseAll();
    }

    @Test
    void shouldAckHelloRegisterAndRunLoneRound() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame().getBodyCase());
        writeFrame(register(45000, 3));
        final Envelope reg = readFrame();
        assertTrue(reg.getRegisterResponse().getAccepted());
        assertEquals(1, reg.getRegisterResponse().getPeerId());
        final Envelope info = readFrame();
        assertEquals(1, info.getP2PConnectionInfo().getRound());
        assertEquals("127.0.0.1", info.getP2PConnectionInfo().getRing(0).getHost());
        assertEquals(45000, info.getP2PConnectionInfo().getRing(0).getPort());
        writeFrame(Envelope.newBuilder().setP2PConnectionsEstablished(P2PConnectionsEstablished.newBuilder()
                .setRound(1).setSuccess(true)).build());
        final Envelope result = readFrame();
        assertTrue(result.getP2PEstablishResult().getSuccess());
        assertEquals(1, result.getP2PEstablishResult().getWorld().getGlobal());
        conductor.sendHeartbeats(42);
        assertEquals(42, readFrame().getHeartbeat().getSentAtMs());
        assertTrue(channel.isActive());
    }

    @Test
    void shouldHandEventsInArrivalOrderToAConductorOnAnotherExecutor() throws Exception {
        final DefaultEventExecutor other = new DefaultEventExecutor();
        final MasterConductor remote = new MasterConductor(other, () -> nowNs, TimeUnit.SECONDS.toNanos(5));
        final EmbeddedChannel ch = newChannel(remote);
        try {
            writeFrame(ch, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            writeFrame(ch, register(45000, 3));
            // Handed over, not run on the channel's thread: nothing has been answered until the conductor runs.
            assertEquals(List.of(1L), other.submit(() -> remote.machine().peerIds()).get(5, TimeUnit.SECONDS));
            assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame(ch).getBodyCase());
            final Envelope reg = readFrame(ch);
            assertTrue(reg.getRegisterResponse().getAccepted(), reg::toString);
            assertEquals(1, readFrame(ch).getP2PConnectionInfo().getRound());
            ch.pipeline().fireChannelInactive();
            assertEquals(List.of(), other.submit(() -> remote.machine().peerIds()).get(5, TimeUnit.SECONDS));
        } finally {
            ch.finishAndReleaseAll();
            other.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void shouldRejectWrongMagicWithReasonAndClose() {
        writeFrame(Envelope.newBuilder().setHello(Hello.newBuilder().setMagic(0xdeadbeef).setProtocolVersion(1)
                .setRole(ConnectionRole.ROLE_PEER_TO_MASTER)).build());
        assertError(ErrorCode.ERROR_PROTOCOL_VIOLATION, "bad protocol magic 0xdeadbeef, expected 0x50434331");
    }

    @Test
    void shouldRejectMessageBeforeHello() {
        writeFrame(register(45000, 0));
        assertError(ErrorCode.ERROR_PROTOCOL_VIOLATION, "first message must be hello, got REGISTER_REQUEST");
    }

    @Test
    void shouldRejectMessageBeforeRegister() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        readFrame();
        writeFrame(Envelope.newBuilder().setPeersPendingQuery(PeersPendingQuery.getDefaultInstance()).build());
        assertError(ErrorCode.ERROR_PROTOCOL_VIOLATION, "expected register_request after hello, got"
                + " peers_pending_query");
    }

    @Test
    void shouldRejectOversizedFrame() {
        final ByteBuf buf = Unpooled.buffer().writeInt(1 << 20).writeZero(16);
        channel.writeInbound(buf);
        final Envelope e = readFrame();
        assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, e.getError().getCode());
        assertTrue(e.getError().getReason().startsWith("malformed frame: "), e.toString());
        assertTrue(e.getError().getReason().contains("exceeds"), e.toString());
        assertFalse(channel.isActive());
    }

    @Test
    void shouldRejectUnparsableProtobuf() {
        channel.writeInbound(Unpooled.buffer().writeInt(3).writeByte(0xff).writeByte(0xff).writeByte(0xff));
        final Envelope e = readFrame();
        assertTrue(e.getError().getReason().startsWith("malformed frame: "), e.toString());
        assertFalse(channel.isActive());
    }

    @Test
    void shouldKickRegisteredPeerForUnknownBody() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        writeFrame(register(45000, 0));
        readFrame();
        readFrame();
        readFrame();
        // Field 99 is not part of the Envelope oneof: it parses as an unknown field, body not set.
        // Tag of field 99, wire type varint = 792 = varint 0x98 0x06; value 1.
        channel.writeInbound(Unpooled.buffer().writeInt(3).writeByte(0x98).writeByte(0x06).writeByte(0x01));
        final Envelope e = readFrame();
        assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, e.getError().getCode(), e::toString);
        assertEquals("unexpected message an envelope without a known body from peer 1 on the master connection",
                e.getError().getReason());
        assertFalse(channel.isActive());
        channel.runPendingTasks();
        assertEquals(List.of(), conductor.machine().peerIds());
    }

    @Test
    void shouldLeavePlainSilenceToTheConductorsClock() {
        // After a pause of the master, the idle event can come before the waiting messages are read: a plainly
        // silent connection is judged by the state machine's heartbeat timeout instead (pause-tolerant clock).
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        channel.runPendingTasks();
        assertTrue(channel.isActive());
        assertNull(channel.readOutbound());
    }

    @Test
    void shouldPauseReadsWhileAnswersAreUnsentAndResumeOnceTheyLeave() {
        assertTrue(channel.config().isAutoRead());
        // Unflushed bytes above the high-water mark: what a peer that does not read leaves in the outbound buffer.
        final int unsent = channel.config().getWriteBufferHighWaterMark() + 1;
        channel.write(Unpooled.wrappedBuffer(new byte[unsent]));
        assertFalse(channel.isWritable());
        assertFalse(channel.config().isAutoRead(), "reads go on while " + unsent + " bytes wait to be sent");
        channel.flush();
        assertTrue(channel.isWritable());
        assertTrue(channel.config().isAutoRead(), "reads stay paused after the answers left");
        // The frame encoder sends the bytes behind a length prefix.
        long sent = 0;
        for (ByteBuf part = channel.readOutbound(); part != null; part = channel.readOutbound()) {
            sent += part.readableBytes();
            part.release();
        }
        assertEquals(unsent + 4L, sent);
    }

    @Test
    void shouldCloseWithoutErrorAPeerThatStoppedReadingForTheHeartbeatTimeout() {
        final int unsent = channel.config().getWriteBufferHighWaterMark() + 1;
        channel.write(Unpooled.wrappedBuffer(new byte[unsent]));
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        assertFalse(channel.isOpen(), "a peer that reads nothing is kept until it disconnects");
        // Closing failed the unsent bytes; no Error envelope was queued behind them.
        assertNothingSent(channel, "a frame after the close or the error");
    }

    @Test
    void shouldPauseReadsWhileTooManyEventsWaitOnABusyConductorAndResumeOnceItCatchesUp() throws Exception {
        final DefaultEventExecutor other = new DefaultEventExecutor();
        final MasterConductor remote = new MasterConductor(other, () -> nowNs, TimeUnit.SECONDS.toNanos(5));
        final EmbeddedChannel ch = newChannel(remote);
        final CountDownLatch release = new CountDownLatch(1);
        try {
            // Hold the conductor so that every frame below waits on its queue.
            other.execute(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            writeFrame(ch, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            for (int i = 1; i < MasterChannelHandler.MAX_HANDED_OVER - 1; i++) {
                writeFrame(ch, MasterProtoUtils.heartbeat(i));
            }
            assertTrue(ch.config().isAutoRead(), "paused below the limit");
            writeFrame(ch, MasterProtoUtils.heartbeat(0));
            assertFalse(ch.config().isAutoRead(), "reads go on with " + MasterChannelHandler.MAX_HANDED_OVER
                    + " events waiting on the conductor");
            release.countDown();
            // Every event handed over before this marker has run once it returns; then the channel's loop resumes.
            other.submit(() -> { }).get(5, TimeUnit.SECONDS);
            ch.runPendingTasks();
            assertTrue(ch.config().isAutoRead(), "reads stay paused after the conductor caught up");
            assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame(ch).getBodyCase());
        } finally {
            release.countDown();
            ch.finishAndReleaseAll();
            other.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    @Test
    void shouldPauseReadsOverTheMessageRateAndResumeOnceTheBudgetRefillsWithoutDroppingAny() {
        final EmbeddedChannel ch = newChannel(conductor, limits(new ConnectionSlots(10), 10, 0));
        try {
            writeFrame(ch, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            writeFrame(ch, register(45000, 4));
            assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame(ch).getBodyCase());
            assertEquals(Envelope.BodyCase.REGISTER_RESPONSE, readFrame(ch).getBodyCase());
            assertEquals(Envelope.BodyCase.P2P_CONNECTION_INFO, readFrame(ch).getBodyCase());
            writeFrame(ch, Envelope.newBuilder().setP2PConnectionsEstablished(P2PConnectionsEstablished.newBuilder()
                    .setRound(1).setSuccess(true)).build());
            assertTrue(readFrame(ch).getP2PEstablishResult().getSuccess());
            final Envelope query = Envelope.newBuilder().setPeersPendingQuery(PeersPendingQuery.getDefaultInstance())
                    .build();
            for (int i = 0; i < 6; i++) {
                writeFrame(ch, query);
            }
            assertTrue(ch.config().isAutoRead(), "paused within the burst of 10");
            // The 10th message in the same instant spends the budget: reads pause.
            writeFrame(ch, query);
            assertFalse(ch.config().isAutoRead(), "reads go on with the budget spent");
            for (int i = 0; i < 7; i++) {
                assertEquals(Envelope.BodyCase.PEERS_PENDING_RESPONSE, readFrame(ch).getBodyCase(), "answer " + i);
            }
            // The 11th (already read, as a socket read brings several) waits 100 ms, one message at 10/s.
            writeFrame(ch, query);
            assertNothingSent(ch, "the message over the budget was handled at once");
            ch.advanceTimeBy(99, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
            assertNothingSent(ch, "the message over the budget was handled before the budget refilled");
            assertFalse(ch.config().isAutoRead(), "resumed before the budget refilled");
            ch.advanceTimeBy(1, TimeUnit.MILLISECONDS);
            ch.runScheduledPendingTasks();
            // Delayed, not dropped.
            assertEquals(Envelope.BodyCase.PEERS_PENDING_RESPONSE, readFrame(ch).getBodyCase());
            assertTrue(ch.config().isAutoRead(), "still paused once the held message was handed over");
            assertTrue(ch.isActive());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void shouldKickAConnectionWhoseBacklogOverItsRateOutlastsTheHeartbeatTimeout() {
        final EmbeddedChannel ch = newChannel(conductor, limits(new ConnectionSlots(10), 10, 1_000));
        try {
            writeFrame(ch, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame(ch).getBodyCase());
            // The burst of 10, then 9 held: 100 ms until the first may go plus 900 ms for the nine, exactly the
            // timeout, is still allowed.
            for (int i = 1; i < 19; i++) {
                writeFrame(ch, MasterProtoUtils.heartbeat(i));
            }
            assertTrue(ch.isActive());
            writeFrame(ch, MasterProtoUtils.heartbeat(19));
            final Envelope e = readFrame(ch);
            assertEquals(ErrorCode.ERROR_KICKED, e.getError().getCode(), e::toString);
            assertEquals("sent messages faster than its limit of 10 per second: the backlog would take 1100 ms to"
                    + " drain, limit 1000 ms (the heartbeat timeout)", e.getError().getReason());
            assertFalse(ch.isActive());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void shouldRefuseAConnectionBeyondTheLimitAndAdmitANewOneOnceASlotIsFree() {
        final ConnectionSlots slots = new ConnectionSlots(1);
        final MasterConductor c = new MasterConductor(ImmediateEventExecutor.INSTANCE, () -> nowNs,
                TimeUnit.SECONDS.toNanos(5));
        final EmbeddedChannel first = newChannel(c, limits(slots, 1000, 0));
        final EmbeddedChannel refused = newChannel(c, limits(slots, 1000, 0));
        EmbeddedChannel later = null;
        try {
            final Envelope e = readFrame(refused);
            assertEquals(ErrorCode.ERROR_RESOURCE_EXHAUSTED, e.getError().getCode(), e::toString);
            assertEquals("the master's connection limit is reached (1 open, limit 1); try again later",
                    e.getError().getReason());
            assertFalse(refused.isActive());
            assertEquals(1, c.connectionCount(), "the conductor heard of the refused connection");
            assertEquals(1, slots.open());
            first.close();
            first.runPendingTasks();
            assertEquals(0, slots.open());
            assertEquals(0, c.connectionCount());
            later = newChannel(c, limits(slots, 1000, 0));
            writeFrame(later, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame(later).getBodyCase());
            assertEquals(1, slots.open());
        } finally {
            first.finishAndReleaseAll();
            refused.finishAndReleaseAll();
            if (later != null) {
                later.finishAndReleaseAll();
            }
        }
    }

    @Test
    void shouldCloseConnectionThatHeartbeatsButNeverRegisters() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        assertEquals(Envelope.BodyCase.HELLO_ACK, readFrame().getBodyCase());
        for (int i = 0; i < 5; i++) {
            nowNs += TimeUnit.SECONDS.toNanos(1);
            writeFrame(MasterProtoUtils.heartbeat(i));
            conductor.doWork();
            assertTrue(channel.isActive(), "closed at " + (i + 1) + " s, within the 5 s limit");
        }
        nowNs += TimeUnit.MILLISECONDS.toNanos(1);
        writeFrame(MasterProtoUtils.heartbeat(5));
        assertEquals(1, conductor.doWork());
        assertError(ErrorCode.ERROR_KICKED, "no register request within 5001 ms of connecting (state AWAIT_REGISTER),"
                + " limit 5000 ms");
        channel.runPendingTasks();
        assertEquals(0, conductor.connectionCount());
        assertEquals(0, conductor.unregisteredCount());
    }

    @Test
    void shouldCloseConnectionThatNeverSendsHelloAfterTheRegistrationTimeout() {
        final MasterConductor shortLimit = new MasterConductor(ImmediateEventExecutor.INSTANCE, () -> nowNs,
                TimeUnit.SECONDS.toNanos(5), TimeUnit.MILLISECONDS.toNanos(250));
        final EmbeddedChannel ch = new EmbeddedChannel();
        try {
            MasterChannelInitializer.install(ch.pipeline(), shortLimit,
                    limits(new ConnectionSlots(Integer.MAX_VALUE), 1_000_000_000, 0));
            ch.pipeline().fireChannelActive();
            nowNs += TimeUnit.MILLISECONDS.toNanos(250);
            assertEquals(0, shortLimit.doWork());
            assertTrue(ch.isActive());
            nowNs += TimeUnit.MILLISECONDS.toNanos(1) + 500_000;
            assertEquals(1, shortLimit.doWork());
            final Envelope e = readFrame(ch);
            assertEquals(ErrorCode.ERROR_KICKED, e.getError().getCode(), e::toString);
            assertEquals("no register request within 251 ms of connecting (state AWAIT_HELLO), limit 250 ms",
                    e.getError().getReason());
            assertFalse(ch.isActive());
            assertEquals(0, shortLimit.unregisteredCount());
        } finally {
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void shouldNotExpireAConnectionOrRemoveAPeerForTheTimeTheMasterWasPaused() {
        // The master's clock as Master wires it; the conductor reads it at least every work period (100 ms).
        final PauseTolerantClock clock = new PauseTolerantClock(() -> nowNs, TimeUnit.MILLISECONDS.toNanos(750));
        final MasterConductor paused = new MasterConductor(ImmediateEventExecutor.INSTANCE, clock,
                TimeUnit.SECONDS.toNanos(3));
        final EmbeddedChannel peer = newChannel(paused);
        final EmbeddedChannel joining = newChannel(paused);
        try {
            writeFrame(peer, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            writeFrame(peer, register(45000, 0));
            assertEquals(List.of(1L), paused.machine().peerIds());
            for (int i = 0; i < 10; i++) {
                nowNs += TimeUnit.MILLISECONDS.toNanos(100);
                assertEquals(0, paused.doWork());
            }
            // SIGSTOP for 5 s, longer than both timeouts (3 s). On resume the periodic work runs before the
            // heartbeat and the hello that wait in the sockets are read.
            nowNs += TimeUnit.SECONDS.toNanos(5);
            assertEquals(0, paused.doWork());
            writeFrame(joining, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            writeFrame(peer, MasterProtoUtils.heartbeat(9));
            assertTrue(peer.isActive());
            assertTrue(joining.isActive());
            assertEquals(List.of(1L), paused.machine().peerIds());
            // Silence the master observed while it ran still counts: nothing heard for 3 s more removes both.
            for (int i = 0; i < 31; i++) {
                nowNs += TimeUnit.MILLISECONDS.toNanos(100);
                paused.doWork();
            }
            peer.runPendingTasks();
            joining.runPendingTasks();
            assertEquals(List.of(), paused.machine().peerIds());
            assertEquals(0, paused.unregisteredCount());
            assertFalse(joining.isActive());
        } finally {
            peer.finishAndReleaseAll();
            joining.finishAndReleaseAll();
        }
    }

    @Test
    void shouldNotExpireARegisteredPeerOrTheConnectionsOpenedLater() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        writeFrame(register(45000, 0));
        assertEquals(0, conductor.unregisteredCount());
        readFrame();
        readFrame();
        nowNs += TimeUnit.SECONDS.toNanos(3);
        final EmbeddedChannel late = newChannel(conductor);
        try {
            assertEquals(1, conductor.unregisteredCount());
            nowNs += TimeUnit.SECONDS.toNanos(3);
            // 6 s after the first connection opened, 3 s after the second: neither is past its deadline.
            writeFrame(MasterProtoUtils.heartbeat(1));
            assertEquals(0, conductor.doWork());
            assertTrue(channel.isActive());
            assertTrue(late.isActive());
            assertEquals(List.of(1L), conductor.machine().peerIds());
        } finally {
            late.finishAndReleaseAll();
        }
    }

    @Test
    void shouldRemoveAClosedUnregisteredConnectionFromTheDeadlineQueue() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        assertEquals(1, conductor.unregisteredCount());
        channel.close();
        channel.runPendingTasks();
        assertEquals(0, conductor.unregisteredCount());
        assertEquals(0, conductor.connectionCount());
    }

    @Test
    void shouldRemovePeerWhenChannelCloses() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        writeFrame(register(45000, 0));
        assertEquals(List.of(1L), conductor.machine().peerIds());
        channel.close();
        assertEquals(List.of(), conductor.machine().peerIds());
        assertEquals(0, conductor.connectionCount());
    }

    @Test
    void shouldRunASharedStateSyncBetweenTwoPeers() {
        writeFrame(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        writeFrame(register(45001, 0));
        readFrame();
        readFrame();
        assertEquals(1, readFrame().getP2PConnectionInfo().getRound());
        writeFrame(Envelope.newBuilder().setP2PConnectionsEstablished(P2PConnectionsEstablished.newBuilder()
                .setRound(1).setSuccess(true)).build());
        assertTrue(readFrame().getP2PEstablishResult().getSuccess());
        final EmbeddedChannel second = newChannel(conductor);
        try {
            writeFrame(second, Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            writeFrame(second, register(45002, 0));
            readFrame(second);
            assertEquals(2, readFrame(second).getRegisterResponse().getPeerId());
            writeFrame(Envelope.newBuilder().setEstablishP2PRequest(EstablishP2PRequest.newBuilder()
                    .setAcceptNewPeers(true)).build());
            assertEquals(2, readFrame().getP2PConnectionInfo().getRound());
            assertEquals(2, readFrame(second).getP2PConnectionInfo().getRound());
            for (final EmbeddedChannel ch : List.of(channel, second)) {
                writeFrame(ch, Envelope.newBuilder().setP2PConnectionsEstablished(P2PConnectionsEstablished
                        .newBuilder().setRound(2).setSuccess(true)).build());
            }
            assertTrue(readFrame().getP2PEstablishResult().getSuccess());
            assertTrue(readFrame(second).getP2PEstablishResult().getSuccess());

            writeFrame(syncRequest(7, 42));
            assertNothingSent(channel, "waits for peer 2");
            writeFrame(second, syncRequest(7, 43));
            assertEquals(SyncSharedStateResponse.newBuilder().setRevision(7).build(),
                    readFrame().getSyncSharedStateResponse());
            assertEquals(SyncSharedStateResponse.newBuilder().setOutdated(true).setRevision(7)
                    .addDistributors(io.pccl.proto.PeerEndpoint.newBuilder().setPeerId(1).setHost("127.0.0.1")
                            .setPort(45001))
                    .addKeys(KeyFetch.newBuilder().setKey("key1").setExpectedHash(42)
                            .setHashType(HashTypeProto.HASH_CRC32C)).build(),
                    readFrame(second).getSyncSharedStateResponse());
            writeFrame(second, syncComplete(true));
            writeFrame(syncComplete(true));
            for (final EmbeddedChannel ch : List.of(channel, second)) {
                assertEquals(SyncSharedStateDone.newBuilder().setSuccess(true).build(),
                        readFrame(ch).getSyncSharedStateDone());
            }
            assertEquals(8, conductor.machine().expectedSyncRevision(0).getAsLong());

            writeFrame(second, Envelope.newBuilder().setSyncSharedStateRequest(SyncSharedStateRequest.newBuilder()
                    .setStrategyValue(7)).build());
            final Envelope kick = readFrame(second);
            assertEquals(ErrorCode.ERROR_PROTOCOL_VIOLATION, kick.getError().getCode());
            assertEquals("unknown sync strategy 7 from peer 2, expected 0..2", kick.getError().getReason());
            assertFalse(second.isActive());
        } finally {
            second.finishAndReleaseAll();
        }
    }

    private static Envelope syncRequest(final long revision, final long hash) {
        return Envelope.newBuilder().setSyncSharedStateRequest(SyncSharedStateRequest.newBuilder()
                .setRevision(revision).setStrategy(SyncStrategyProto.SYNC_ENFORCE_POPULAR)
                .addEntries(SharedStateEntryInfo.newBuilder().setKey("key1").setHash(hash)
                        .setHashType(HashTypeProto.HASH_CRC32C).setCount(256).setDataType(DataTypeProto.DT_FLOAT32)))
                .build();
    }

    private static Envelope syncComplete(final boolean success) {
        return Envelope.newBuilder().setSyncSharedStateComplete(SyncSharedStateComplete.newBuilder()
                .setSuccess(success)).build();
    }

    @Test
    void shouldConvertRefusalsWithRoundZeroAndCode() {
        final P2PEstablishResult refused = MasterProtoUtils.establishRefused(MasterError.FAILED_PRECONDITION, "busy")
                .getP2PEstablishResult();
        assertEquals(P2PEstablishResult.newBuilder().setRound(0).setSuccess(false)
                .setCode(ErrorCode.ERROR_FAILED_PRECONDITION).setReason("busy").build(), refused);
        assertEquals(PeersPendingResponse.newBuilder().setPending(false).setCode(ErrorCode.ERROR_FAILED_PRECONDITION)
                .setReason("busy").build(), MasterProtoUtils.pendingQueryRefused(MasterError.FAILED_PRECONDITION,
                "busy").getPeersPendingResponse());
        assertEquals(SyncSharedStateResponse.newBuilder().setCode(ErrorCode.ERROR_REVISION_VIOLATION)
                .setReason("ahead").build(), MasterProtoUtils.syncFailed(MasterError.REVISION_VIOLATION, "ahead")
                .getSyncSharedStateResponse());
    }

    @Test
    void shouldMapEveryErrorCode() {
        for (final MasterError code : MasterError.values()) {
            assertEquals("ERROR_" + code.name(), MasterProtoUtils.toProto(code).name());
        }
    }

    private static Envelope register(final int port, final int group) {
        return Envelope.newBuilder().setRegisterRequest(RegisterRequest.newBuilder().setListenPort(port)
                .setPeerGroup(group)).build();
    }

    private void writeFrame(final Envelope e) {
        writeFrame(channel, e);
    }

    private static void writeFrame(final EmbeddedChannel ch, final Envelope e) {
        final byte[] bytes = e.toByteArray();
        ch.writeInbound(Unpooled.buffer().writeInt(bytes.length).writeBytes(bytes));
    }

    private Envelope readFrame() {
        return readFrame(channel);
    }

    private static Envelope readFrame(final EmbeddedChannel ch) {
        final ByteBuf out = Unpooled.buffer();
        // A flush outside a read is consolidated into a task that runs once the loop is done with the current one.
        ch.runPendingTasks();
        // The encoder emits the length prefix and the body as separate buffers.
        for (int i = 0; i < 2; i++) {
            final ByteBuf part = ch.readOutbound();
            if (part == null) {
                break;
            }
            out.writeBytes(part);
            part.release();
            if (out.readableBytes() >= 4 && out.readableBytes() >= 4 + out.getInt(0)) {
                break;
            }
        }
        try {
            assertTrue(out.readableBytes() >= 4, "no outbound frame");
            final int length = out.readInt();
            final byte[] bytes = new byte[length];
            out.readBytes(bytes);
            return Envelope.parseFrom(bytes);
        } catch (final com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        } finally {
            out.release();
        }
    }

    /** Nothing was sent, also once the loop has run its consolidated flushes. */
    private static void assertNothingSent(final EmbeddedChannel ch, final String why) {
        ch.runPendingTasks();
        final Object sent = ch.readOutbound();
        ReferenceCountUtil.release(sent);
        assertNull(sent, why);
    }

    private void assertError(final ErrorCode code, final String reason) {
        final Envelope e = readFrame();
        assertEquals(code, e.getError().getCode(), e::toString);
        assertEquals(reason, e.getError().getReason());
        assertFalse(channel.isActive());
        assertNothingSent(channel, "a frame after the close or the error");
    }
}
