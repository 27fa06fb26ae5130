package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.EstablishP2PRequest;
import io.pccl.proto.P2PConnectionInfo;
import io.pccl.proto.P2PConnectionsEstablished;
import io.pccl.proto.P2PEstablishResult;
import io.pccl.proto.RegisterRequest;
import io.pccl.proto.RegisterResponse;
import io.pccl.transport.Envelopes;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * A minimal blocking peer speaking raw length-prefixed protobuf to a master over loopback, for system tests.
 * Every read has a socket timeout.
 *
 * <p>Not thread-safe.
 */
final class TestPeerClient implements AutoCloseable {
    static final int READ_TIMEOUT_MS = 5_000;

    final Socket socket;
    final DataInputStream in;
    final DataOutputStream out;

    TestPeerClient(final int port) throws IOException {
        socket = new Socket();
        socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), READ_TIMEOUT_MS);
        socket.setSoTimeout(READ_TIMEOUT_MS);
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(socket.getOutputStream());
    }

    void send(final Envelope envelope) throws IOException {
        final byte[] bytes = envelope.toByteArray();
        out.writeInt(bytes.length);
        out.write(bytes);
        out.flush();
    }

    void sendRaw(final byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /** Next envelope that is not a heartbeat; throws EOFException when the master closed the connection. */
    Envelope receive() throws IOException {
        while (true) {
            final int length = in.readInt();
            final byte[] bytes = new byte[length];
            in.readFully(bytes);
            final Envelope e = Envelope.parseFrom(bytes);
            if (e.getBodyCase() != Envelope.BodyCase.HEARTBEAT) {
                return e;
            }
        }
    }

    Envelope expect(final Envelope.BodyCase body) throws IOException {
        final Envelope e = receive();
        assertEquals(body, e.getBodyCase(), () -> "expected " + body + ", got " + e);
        return e;
    }

    /**
     * Reads until the master sends an Error or closes; fails if neither happens within the read timeout.
     *
     * @return the error's envelope, or null if the master closed without one
     */
    Envelope awaitErrorOrClose() throws IOException {
        try {
            while (true) {
                final Envelope e = receive();
                if (e.getBodyCase() == Envelope.BodyCase.ERROR
                        || e.getBodyCase() == Envelope.BodyCase.REGISTER_RESPONSE
                        && !e.getRegisterResponse().getAccepted()) {
                    return e;
                }
            }
        } catch (final EOFException | java.net.SocketException e) {
            return null;
        } catch (final SocketTimeoutException e) {
            throw new AssertionError("master neither sent an error nor closed within " + READ_TIMEOUT_MS + " ms", e);
        }
    }

    void hello() throws IOException {
        send(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
        expect(Envelope.BodyCase.HELLO_ACK);
    }

    RegisterResponse register(final int listenPort, final int group) throws IOException {
        send(Envelope.newBuilder().setRegisterRequest(RegisterRequest.newBuilder().setListenPort(listenPort)
                .setPeerGroup(group)).build());
        return expect(Envelope.BodyCase.REGISTER_RESPONSE).getRegisterResponse();
    }

    /** Hello, register as the first peer of {@code group}, report ok, expect a successful lone round. */
    long joinAlone(final int group) throws IOException {
        hello();
        final RegisterResponse r = register(45000, group);
        assertTrue(r.getAccepted(), () -> "registration refused: " + r);
        final P2PConnectionInfo info = expect(Envelope.BodyCase.P2P_CONNECTION_INFO).getP2PConnectionInfo();
        assertEquals(1, info.getRingCount(), info::toString);
        assertEquals(r.getPeerId(), info.getRing(0).getPeerId());
        report(info.getRound(), true);
        final P2PEstablishResult result = expect(Envelope.BodyCase.P2P_ESTABLISH_RESULT).getP2PEstablishResult();
        assertTrue(result.getSuccess(), result::toString);
        assertEquals(1, result.getWorld().getPeerGroup());
        return r.getPeerId();
    }

    void report(final long round, final boolean ok, final long... unreachable) throws IOException {
        final P2PConnectionsEstablished.Builder b = P2PConnectionsEstablished.newBuilder().setRound(round)
                .setSuccess(ok);
        for (final long u : unreachable) {
            b.addUnreachablePeers(u);
        }
        send(Envelope.newBuilder().setP2PConnectionsEstablished(b).build());
    }

    void voteEstablish(final boolean acceptNewPeers) throws IOException {
        send(Envelope.newBuilder().setEstablishP2PRequest(EstablishP2PRequest.newBuilder()
                .setAcceptNewPeers(acceptNewPeers)).build());
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
