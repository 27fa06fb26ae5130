package io.pccl.transport.auth;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.Envelopes;
import io.pccl.transport.LogThrottle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shared-key handshake between an initiator and a responder on embedded channels, bytes shuttled between them
 * by the test: success with the same key (held writes follow the proof, later bytes pass through, both handlers
 * leave), and every way it must fail without letting a protocol byte through.
 */
@Timeout(10)
class AuthHandshakeTest {
    private static final SharedKey KEY = SharedKey.of(
            "0123456789abcdef-the-test-key".getBytes(StandardCharsets.UTF_8));
    private static final SharedKey OTHER = SharedKey.of(
            "0123456789abcdef-another-key".getBytes(StandardCharsets.UTF_8));
    private static final long TIMEOUT_NS = TimeUnit.SECONDS.toNanos(3);

    /** What reached the handler behind the handshake, and the exceptions it saw. */
    private static final class Behind extends ChannelInboundHandlerAdapter {
        final List<byte[]> reads = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg) {
            final ByteBuf b = (ByteBuf) msg;
            final byte[] bytes = new byte[b.readableBytes()];
            b.readBytes(bytes);
            b.release();
            reads.add(bytes);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause) {
            errors.add(cause);
        }

        byte[] all() {
            final ByteBuf b = Unpooled.buffer();
            reads.forEach(b::writeBytes);
            final byte[] out = new byte[b.readableBytes()];
            b.readBytes(out);
            return out;
        }
    }

    private final Behind initiatorSide = new Behind();
    private final Behind responderSide = new Behind();

    private EmbeddedChannel initiator(final SharedKey key) {
        final EmbeddedChannel ch = new EmbeddedChannel(initiatorSide);
        AuthHandshake.installInitiator(ch.pipeline(), key, "test responder");
        return ch;
    }

    private EmbeddedChannel responder(final SharedKey key) {
        final EmbeddedChannel ch = new EmbeddedChannel(responderSide);
        AuthHandshake.installResponder(ch.pipeline(), key, TIMEOUT_NS, new LogThrottle());
        return ch;
    }

    /** Moves everything each side wrote to the other until neither writes more. */
    private static void shuttle(final EmbeddedChannel a, final EmbeddedChannel b) {
        boolean moved = true;
        while (moved) {
            moved = move(a, b) | move(b, a);
        }
    }

    private static boolean move(final EmbeddedChannel from, final EmbeddedChannel to) {
        boolean moved = false;
        ByteBuf out;
        while ((out = from.readOutbound()) != null) {
            moved = true;
            if (to.isOpen()) {
                to.writeInbound(out);
            } else {
                out.release();
            }
        }
        return moved;
    }

    private static ByteBuf bytes(final String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.US_ASCII);
    }

    private static Envelope readErrorFrame(final EmbeddedChannel ch) throws IOException {
        final ByteBuf frame = ch.readOutbound();
        try {
            final int length = frame.readInt();
            assertEquals(length, frame.readableBytes(), "one whole control frame");
            final byte[] body = new byte[length];
            frame.readBytes(body);
            return Envelope.parseFrom(body);
        } finally {
            frame.release();
        }
    }

    @Test
    void shouldAuthenticateBothSidesAndThenPassTheProtocolThroughWhenTheKeysMatch() {
        final EmbeddedChannel i = initiator(KEY);
        final EmbeddedChannel r = responder(KEY);
        final ChannelFuture hello = i.writeAndFlush(bytes("HELLO"));
        assertFalse(hello.isDone(), "the protocol's first write waits for the handshake");

        shuttle(i, r);

        assertTrue(hello.isSuccess());
        assertArrayEquals("HELLO".getBytes(StandardCharsets.US_ASCII), responderSide.all());
        assertNull(i.pipeline().get(AuthHandshake.HANDLER_NAME), "the initiator's handler left the pipeline");
        assertNull(r.pipeline().get(AuthHandshake.HANDLER_NAME), "the responder's handler left the pipeline");
        r.writeAndFlush(bytes("ACK"));
        i.writeAndFlush(bytes("MORE"));
        shuttle(i, r);
        assertArrayEquals("ACK".getBytes(StandardCharsets.US_ASCII), initiatorSide.all());
        assertArrayEquals("HELLOMORE".getBytes(StandardCharsets.US_ASCII), responderSide.all());
        assertTrue(initiatorSide.errors.isEmpty() && responderSide.errors.isEmpty());
        assertTrue(i.isOpen() && r.isOpen());
    }

    @Test
    void shouldPassBytesThatArriveWithTheProofToTheProtocol() {
        final EmbeddedChannel i = initiator(KEY);
        final EmbeddedChannel r = responder(KEY);
        i.writeAndFlush(bytes("HELLO"));
        r.writeInbound((ByteBuf) i.readOutbound());
        i.writeInbound((ByteBuf) r.readOutbound());
        // The proof and the held hello, in one read of the responder.
        final ByteBuf both = Unpooled.buffer();
        ByteBuf out;
        while ((out = i.readOutbound()) != null) {
            both.writeBytes(out);
            out.release();
        }
        r.writeInbound(both);
        assertArrayEquals("HELLO".getBytes(StandardCharsets.US_ASCII), responderSide.all());
    }

    @Test
    void shouldRefuseOnBothSidesWhenTheKeysDiffer() {
        final EmbeddedChannel i = initiator(KEY);
        final EmbeddedChannel r = responder(OTHER);
        final ChannelFuture hello = i.writeAndFlush(bytes("HELLO"));

        shuttle(i, r);

        assertFalse(hello.isSuccess(), "the held hello never leaves");
        assertInstanceOf(AuthenticationFailedException.class, hello.cause());
        assertEquals(1, initiatorSide.errors.size());
        assertTrue(initiatorSide.errors.get(0).getMessage().contains("test responder failed to prove the shared key"),
                initiatorSide.errors.get(0).getMessage());
        assertFalse(i.isOpen(), "the initiator closed");
        assertTrue(responderSide.reads.isEmpty(), "nothing reached the responder's protocol");
    }

    @Test
    void shouldAnswerAPeerWithoutAKeyWithAnUnauthenticatedErrorAndReadNothingOfItsProtocol() throws IOException {
        final EmbeddedChannel r = responder(KEY);
        final byte[] hello = Envelopes.hello(io.pccl.proto.ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0).toByteArray();
        final ByteBuf frame = Unpooled.buffer().writeInt(hello.length).writeBytes(hello);

        r.writeInbound(frame);

        final Envelope error = readErrorFrame(r);
        assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, error.getError().getCode());
        assertTrue(error.getError().getReason().startsWith("authentication required"), error.getError().getReason());
        assertFalse(r.isOpen());
        assertTrue(responderSide.reads.isEmpty(), "the hello never reached the protocol");
    }

    @Test
    void shouldCloseWhenTheInitiatorsProofIsWrongAndDropWhatFollowsIt() throws IOException {
        final EmbeddedChannel r = responder(KEY);
        final byte[] nonce = new byte[AuthHandshake.NONCE_BYTES];
        r.writeInbound(Unpooled.buffer().writeInt(AuthHandshake.MAGIC).writeBytes(nonce));
        final ByteBuf answer = r.readOutbound();
        assertEquals(AuthHandshake.ANSWER_BYTES, answer.readableBytes());
        assertEquals(AuthHandshake.MAGIC, answer.getInt(0));
        answer.release();

        final byte[] forged = new byte[AuthHandshake.MAC_BYTES];
        Arrays.fill(forged, (byte) 7);
        r.writeInbound(Unpooled.buffer().writeBytes(forged).writeBytes("REGISTER".getBytes(StandardCharsets.US_ASCII)));
        if (r.isOpen()) {
            r.writeInbound(bytes("AND MORE"));
        }

        assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, readErrorFrame(r).getError().getCode());
        assertFalse(r.isOpen());
        assertTrue(responderSide.reads.isEmpty(), "no byte after a wrong proof reached the protocol");
    }

    @Test
    void shouldCloseAConnectionThatDoesNotAuthenticateWithinTheTimeout() throws IOException {
        final EmbeddedChannel r = responder(KEY);
        r.writeInbound(Unpooled.buffer().writeInt(AuthHandshake.MAGIC)); // starts, then goes silent

        r.advanceTimeBy(TIMEOUT_NS + 1, TimeUnit.NANOSECONDS);
        r.runScheduledPendingTasks();

        final Envelope error = readErrorFrame(r);
        assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, error.getError().getCode());
        assertTrue(error.getError().getReason().contains("timed out after 3000 ms"), error.getError().getReason());
        assertFalse(r.isOpen());
    }

    @Test
    void shouldTellTheInitiatorThatASideWithoutAKeyDoesNotAnswer() {
        final EmbeddedChannel i = initiator(KEY);
        i.readOutbound(); // the handshake's first message, which a side without a key takes for an oversized frame
        final byte[] body = Envelopes.error(ErrorCode.ERROR_PROTOCOL_VIOLATION,
                "frame of 1346584881 bytes exceeds the limit of 1048576").toByteArray();

        i.writeInbound(Unpooled.buffer().writeInt(body.length).writeBytes(body));

        assertEquals(1, initiatorSide.errors.size());
        final String message = initiatorSide.errors.get(0).getMessage();
        assertTrue(message.contains("does not answer the authentication handshake")
                && message.contains("it has no shared key configured") && message.contains("1346584881"), message);
        assertTrue(initiatorSide.reads.isEmpty());
        assertFalse(i.isOpen());
    }

    @Test
    void shouldHandARefusalSentInsteadOfTheAnswerToTheProtocol() {
        final EmbeddedChannel i = initiator(KEY);
        i.readOutbound();
        final ChannelFuture hello = i.writeAndFlush(bytes("HELLO"));
        final byte[] body = Envelopes.error(ErrorCode.ERROR_RESOURCE_EXHAUSTED, "4096 connections open, the limit")
                .toByteArray();

        i.writeInbound(Unpooled.buffer().writeInt(body.length).writeBytes(body));

        assertEquals(1, initiatorSide.reads.size(), "the refusal frame went to the protocol handler");
        assertEquals(4 + body.length, initiatorSide.reads.get(0).length);
        assertFalse(hello.isSuccess());
        assertFalse(i.isOpen());
    }

    @Test
    void shouldValidateKeysAndReadKeyFilesWithoutSurroundingWhiteSpace(@TempDir final Path dir) throws IOException {
        assertThrows(IllegalArgumentException.class, () -> SharedKey.of(new byte[SharedKey.MIN_BYTES - 1]));
        assertThrows(IllegalArgumentException.class, () -> SharedKey.of(new byte[SharedKey.MAX_BYTES + 1]));
        final Path file = dir.resolve("key");
        Files.writeString(file, "  0123456789abcdef-the-test-key\n");
        assertEquals(KEY, SharedKey.fromFile(file));
        Files.writeString(file, "short\n");
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SharedKey.fromFile(file));
        assertTrue(e.getMessage().contains("holds 5 bytes") && e.getMessage().contains("at least 16"), e.getMessage());
        assertFalse(KEY.toString().contains("test-key"), "toString never shows the key");
    }
}
