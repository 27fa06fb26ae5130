package io.pccl;

import io.pccl.proto.Envelope;
import io.pccl.proto.RegisterResponse;
import io.pccl.transport.Envelopes;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A master stand-in driven step by step by a test over blocking sockets on loopback, for the client's edge cases
 * (silence, kicks, refusals) that a real master does not produce on demand.
 *
 * <p>Not thread-safe: one test thread drives it.
 */
final class ScriptedMaster implements AutoCloseable {
    private final ServerSocket server;
    private Socket socket;
    private DataInputStream in;
    private DataOutputStream out;

    ScriptedMaster() throws IOException {
        server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress());
        server.setSoTimeout(10_000);
    }

    String address() {
        return InetAddress.getLoopbackAddress().getHostAddress() + ":" + server.getLocalPort();
    }

    void accept() throws IOException {
        socket = server.accept();
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    /** Reads envelopes, skipping heartbeats, until one arrives; asserts its kind. */
    Envelope expect(final Envelope.BodyCase kind) throws IOException {
        while (true) {
            final byte[] bytes = new byte[in.readInt()];
            in.readFully(bytes);
            final Envelope e = Envelope.parseFrom(bytes);
            if (e.getBodyCase() != Envelope.BodyCase.HEARTBEAT) {
                assertEquals(kind, e.getBodyCase());
                return e;
            }
        }
    }

    /** Reads until the peer closes the connection; returns true on end of stream. */
    boolean awaitEof() throws IOException {
        while (true) {
            final int b = in.read();
            if (b < 0) {
                return true;
            }
        }
    }

    void send(final Envelope e) throws IOException {
        final byte[] bytes = e.toByteArray();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    /** Writes bytes as they are, framed or not. */
    void sendRaw(final byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Hello → HelloAck, RegisterRequest → accepted with {@code peerId}. */
    Envelope handshakeAndRegister(final long peerId) throws IOException {
        accept();
        expect(Envelope.BodyCase.HELLO);
        send(Envelopes.helloAck(0));
        final Envelope register = expect(Envelope.BodyCase.REGISTER_REQUEST);
        send(Envelope.newBuilder().setRegisterResponse(RegisterResponse.newBuilder().setAccepted(true)
                .setPeerId(peerId)).build());
        return register;
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
        server.close();
    }
}
