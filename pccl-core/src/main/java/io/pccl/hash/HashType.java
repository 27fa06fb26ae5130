package io.pccl.hash;

import java.nio.ByteBuffer;

/**
 * The content-hash algorithms a shared-state entry can be verified with. The wire number matches
 * {@code HashTypeProto} in {@code pccl.proto}.
 *
 * <p>Thread-safe (immutable).
 *
 * @since 0.1
 */
public enum HashType {
    /** The reference's simplehash ({@link SimpleHash}); 32-bit result. Wire number 0. */
    SIMPLE(0),
    /** CRC-32C ({@link Crc32c}); 32-bit result. Wire number 1. */
    CRC32C(1);

    private final int wireNumber;

    HashType(final int wireNumber) {
        this.wireNumber = wireNumber;
    }

    /**
     * The number of this type on the wire ({@code HashTypeProto}).
     *
     * @return 0 for SIMPLE, 1 for CRC32C
     */
    public int wireNumber() {
        return wireNumber;
    }

    /**
     * The hash type with a wire number.
     *
     * @param wireNumber the number received
     * @return the type
     * @throws IllegalArgumentException for an unknown number (the message names it)
     */
    public static HashType fromWireNumber(final int wireNumber) {
        switch (wireNumber) {
            case 0:
                return SIMPLE;
            case 1:
                return CRC32C;
            default:
                throw new IllegalArgumentException("unknown hash type number " + wireNumber + ", expected 0 or 1");
        }
    }

    /**
     * Hashes {@code lengthBytes} bytes of {@code buf} starting at absolute index {@code offsetBytes}, without
     * touching the buffer's position, limit or byte order.
     *
     * @param buf heap or direct buffer
     * @param offsetBytes absolute start index
     * @param lengthBytes number of bytes
     * @return the hash as an unsigned 32-bit value in a long
     */
    public long hash(final ByteBuffer buf, final long offsetBytes, final long lengthBytes) {
        return this == SIMPLE ? SimpleHash.hash(buf, offsetBytes, lengthBytes)
                : Crc32c.hash(buf, offsetBytes, lengthBytes);
    }
}
