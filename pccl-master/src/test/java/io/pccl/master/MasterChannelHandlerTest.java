package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.pccl.master.state.MasterError;
import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.proto.P2PConnectionsEstablished;
import io.pccl.proto.PeersPendingQuery;
import io.pccl.proto.RegisterRequest;
import io.pccl.transport.Envelopes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The adapter through {@link EmbeddedChannel}: the real control pipeline and handler, a conductor running
 * inline and a manual clock; frames in, frames out.
 */
class MasterChannelHandlerTest {
    private long nowNs = 1_000;
    private final MasterConductor conductor = new MasterConductor(ImmediateEventExecutor.INSTANCE, () -> nowNs,
            TimeUnit.SECONDS.toNanos(5));
    private final EmbeddedChannel channel = newChannel();

    private EmbeddedChannel newChannel() {
        final EmbeddedChannel ch = new EmbeddedChannel();
        MasterChannelInitializer.install(ch.pipeline(), conductor, 1024, 0);
        ch.pipeline().fireChannelActive();
        return ch;
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
    void shouldCloseIdleConnectionWithError() {
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);
        assertError(ErrorCode.ERROR_KICKED, "no message received within the heartbeat timeout");
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
        final byte[] bytes = e.toByteArray();
        channel.writeInbound(Unpooled.buffer().writeInt(bytes.length).writeBytes(bytes));
    }

    private Envelope readFrame() {
        final ByteBuf out = Unpooled.buffer();
        // The encoder emits the length prefix and the body as separate buffers.
        for (int i = 0; i < 2; i++) {
            final ByteBuf part = channel.readOutbound();
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

    private void assertError(final ErrorCode code, final String reason) {
        final Envelope e = readFrame();
        assertEquals(code, e.getError().getCode(), e::toString);
        assertEquals(reason, e.getError().getReason());
        assertFalse(channel.isActive());
        assertNull(channel.readOutbound());
    }
}
