package io.pccl.master.state;

import java.util.Objects;

/**
 * Parameters of a collective launch that every member of the (group, tag) must agree on. Enum-valued fields
 * are carried as names (the adapter passes the wire enum names, e.g. {@code DT_FLOAT32}), which keeps this
 * package free of protobuf types and makes mismatch reasons readable.
 *
 * <p>Thread-safe (immutable).
 *
 * @param count number of elements
 * @param dataType element type name
 * @param op reduce operation name
 * @param quantization quantization algorithm name
 * @param quantizedType wire type name used when quantized
 */
public record CollectiveParams(long count, String dataType, String op, String quantization, String quantizedType) {
    /**
     * Validates the names.
     */
    public CollectiveParams {
        Objects.requireNonNull(dataType, "dataType");
        Objects.requireNonNull(op, "op");
        Objects.requireNonNull(quantization, "quantization");
        Objects.requireNonNull(quantizedType, "quantizedType");
    }

    /**
     * Describes the first field that differs from {@code other}, or returns null when all agree.
     *
     * @param other the parameters another peer sent
     * @param self peer id that sent {@code this}
     * @param otherPeer peer id that sent {@code other}
     * @return "field: peer A sent x, peer B sent y" or null
     */
    String firstMismatch(final CollectiveParams other, final long self, final long otherPeer) {
        if (count != other.count) {
            return mismatch("count", Long.toUnsignedString(count), Long.toUnsignedString(other.count), self,
                    otherPeer);
        }
        if (!dataType.equals(other.dataType)) {
            return mismatch("data type", dataType, other.dataType, self, otherPeer);
        }
        if (!op.equals(other.op)) {
            return mismatch("reduce op", op, other.op, self, otherPeer);
        }
        if (!quantization.equals(other.quantization)) {
            return mismatch("quantization", quantization, other.quantization, self, otherPeer);
        }
        if (!quantizedType.equals(other.quantizedType)) {
            return mismatch("quantized type", quantizedType, other.quantizedType, self, otherPeer);
        }
        return null;
    }

    private static String mismatch(final String field, final String a, final String b, final long peerA,
                                   final long peerB) {
        return field + " mismatch: peer " + peerA + " sent " + a + ", peer " + peerB + " sent " + b;
    }
}
