package io.pccl.transport;

/**
 * Protocol-wide constants: the hello magic, the protocol version and the frame size limits.
 *
 * <p>Thread-safe (constants only).
 */
public final class ProtocolConstants {
    /** Magic number carried in every {@code Hello}: ASCII "PCC1". */
    public static final int MAGIC = 0x50434331;
    /** Protocol version; a peer with another version is refused with a structured error. */
    public static final int PROTOCOL_VERSION = 1;
    /** Largest control frame accepted, in bytes (the length prefix excluded). */
    public static final int MAX_CONTROL_FRAME_BYTES = 4 * 1024 * 1024;
    /** Size of the control-frame length prefix, in bytes. */
    public static final int LENGTH_PREFIX_BYTES = 4;
    /** Default master port. */
    public static final int DEFAULT_MASTER_PORT = 48148;
    /** Default first port a peer tries for its listener; bumped until a bind succeeds. */
    public static final int DEFAULT_PEER_BASE_PORT = 48150;

    private ProtocolConstants() {
    }
}
