package io.pccl.master;

import com.google.protobuf.ByteString;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * One control connection to the master and where it is in the handshake.
 *
 * <pre>
 *   AWAIT_HELLO --hello ok--&gt; AWAIT_REGISTER --register--&gt; REGISTERING --accepted--&gt; REGISTERED
 *        |                          |                          | refused                 | kicked
 *        +--------------------------+--------------------------+--&gt; CLOSING &lt;------------+
 * </pre>
 *
 * <p>The id and channel are final; {@link #state}, {@link #peerId} and {@link #openedAtNs} are written only
 * on the master conductor thread.
 */
final class MasterConnection {
    /** Handshake state of a control connection. */
    enum State {
        /** Nothing received yet; the first frame must be a hello. */
        AWAIT_HELLO,
        /** Hello accepted; the next frame must be a register request. */
        AWAIT_REGISTER,
        /** Register request handed to the state machine, answer not yet given. */
        REGISTERING,
        /** Registered as {@link #peerId}. */
        REGISTERED,
        /** An error was sent and the connection is closing; further frames are dropped. */
        CLOSING
    }

    final long id;
    final Channel channel;
    final String host;
    final boolean loopback;
    volatile State state = State.AWAIT_HELLO;
    volatile long peerId;
    /**
     * DER subject of the certificate the connection presented (empty without TLS); set at registration, confined to
     * the conductor.
     */
    ByteString certificateSubject = ByteString.EMPTY;
    /** Conductor clock reading when the conductor learnt of the connection; confined to the conductor. */
    long openedAtNs;

    MasterConnection(final long id, final Channel channel) {
        this.id = id;
        this.channel = channel;
        final SocketAddress remote = channel.remoteAddress();
        if (remote instanceof InetSocketAddress inet && inet.getAddress() != null) {
            final InetAddress address = inet.getAddress();
            this.host = address.getHostAddress();
            this.loopback = address.isLoopbackAddress();
        } else {
            // EmbeddedChannel and local channels have no IP address: treat them as loopback.
            this.host = "127.0.0.1";
            this.loopback = true;
        }
    }

    @Override
    public String toString() {
        return "connection " + id + " (" + host + (peerId != 0 ? ", peer " + peerId : "") + ", " + state + ")";
    }
}
