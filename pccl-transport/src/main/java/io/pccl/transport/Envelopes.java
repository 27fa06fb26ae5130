package io.pccl.transport;

import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.Error;
import io.pccl.proto.ErrorCode;
import io.pccl.proto.Hello;
import io.pccl.proto.HelloAck;

/**
 * Factories and checks for the envelopes every connection uses: hello, hello-ack and structured errors.
 *
 * <p>Thread-safe (stateless).
 */
public final class Envelopes {
    private Envelopes() {
    }

    /**
     * A hello for this protocol version.
     *
     * @param role what the connection is for
     * @param peerId sender's peer id, 0 if not assigned yet
     * @param connectionIndex index within a connection pool, 0 otherwise
     * @param poolSize sender's pool size, 0 if not a pool connection
     * @return the envelope
     */
    public static Envelope hello(final ConnectionRole role, final long peerId, final int connectionIndex,
                                 final int poolSize) {
        return Envelope.newBuilder().setHello(Hello.newBuilder()
                .setMagic(ProtocolConstants.MAGIC)
                .setProtocolVersion(ProtocolConstants.PROTOCOL_VERSION)
                .setRole(role)
                .setPeerId(peerId)
                .setConnectionIndex(connectionIndex)
                .setPoolSize(poolSize)).build();
    }

    /**
     * A hello-ack.
     *
     * @param peerId responder's peer id, 0 for the master
     * @return the envelope
     */
    public static Envelope helloAck(final long peerId) {
        return Envelope.newBuilder().setHelloAck(HelloAck.newBuilder()
                .setProtocolVersion(ProtocolConstants.PROTOCOL_VERSION).setPeerId(peerId)).build();
    }

    /**
     * A structured error.
     *
     * @param code the code
     * @param reason human-readable reason naming the value and the limit
     * @return the envelope
     */
    public static Envelope error(final ErrorCode code, final String reason) {
        return Envelope.newBuilder().setError(Error.newBuilder().setCode(code).setReason(reason)).build();
    }

    /**
     * Validates a hello: magic, version and, if {@code expectedRole} is not null, the role.
     *
     * @param envelope the first envelope received on a connection
     * @param expectedRole the role required, or null to accept any role but {@code ROLE_UNSPECIFIED}
     * @return null if valid, else a reason naming the offending value and what was expected
     */
    public static String checkHello(final Envelope envelope, final ConnectionRole expectedRole) {
        if (envelope.getBodyCase() != Envelope.BodyCase.HELLO) {
            return "first message must be hello, got " + envelope.getBodyCase();
        }
        final Hello hello = envelope.getHello();
        if (hello.getMagic() != ProtocolConstants.MAGIC) {
            return String.format("bad protocol magic 0x%08x, expected 0x%08x", hello.getMagic(),
                    ProtocolConstants.MAGIC);
        }
        if (hello.getProtocolVersion() != ProtocolConstants.PROTOCOL_VERSION) {
            return "unsupported protocol version " + hello.getProtocolVersion() + ", this side speaks "
                    + ProtocolConstants.PROTOCOL_VERSION;
        }
        if (expectedRole != null && hello.getRole() != expectedRole) {
            return "unexpected connection role " + hello.getRole() + ", expected " + expectedRole;
        }
        if (hello.getRole() == ConnectionRole.ROLE_UNSPECIFIED || hello.getRole() == ConnectionRole.UNRECOGNIZED) {
            return "connection role missing or unknown: " + hello.getRoleValue();
        }
        return null;
    }
}
