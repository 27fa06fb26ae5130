package io.pccl;

import java.util.Objects;

/**
 * Describes one all-reduce: element count, element type, reduction, tag and quantization. Peers launching the
 * same tag must pass equal descriptors; the master fails the operation on all of them otherwise.
 *
 * <p>Immutable and thread-safe; the fluent methods return new descriptors.
 *
 * @since 0.1
 */
public final class ReduceDescriptor {
    private final long count;
    private final DataType dataType;
    private final ReduceOp op;
    private final long tag;
    private final Quantization quantization;
    private final DataType quantizedType;

    private ReduceDescriptor(final long count, final DataType dataType, final ReduceOp op, final long tag,
                             final Quantization quantization, final DataType quantizedType) {
        if (count < 0) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "count " + count + " must be >= 0");
        }
        if (tag < 0) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "tag " + tag + " must be >= 0");
        }
        this.count = count;
        this.dataType = Objects.requireNonNull(dataType, "dataType");
        this.op = Objects.requireNonNull(op, "op");
        this.tag = tag;
        this.quantization = Objects.requireNonNull(quantization, "quantization");
        this.quantizedType = Objects.requireNonNull(quantizedType, "quantizedType");
    }

    /**
     * A descriptor with tag 0 and no quantization.
     *
     * @param count number of elements, {@code >= 0}
     * @param dataType element type
     * @param op reduction
     * @return the descriptor
     */
    public static ReduceDescriptor of(final long count, final DataType dataType, final ReduceOp op) {
        return new ReduceDescriptor(count, dataType, op, 0, Quantization.NONE, dataType);
    }

    /**
     * Returns a copy with another tag. Concurrent operations need distinct tags.
     *
     * @param tag the tag, {@code >= 0}
     * @return a new descriptor
     */
    public ReduceDescriptor tag(final long tag) {
        return new ReduceDescriptor(count, dataType, op, tag, quantization, quantizedType);
    }

    /**
     * Returns a copy that quantizes transfers.
     *
     * @param algorithm the quantization algorithm
     * @param wireType the type values travel in
     * @return a new descriptor
     */
    public ReduceDescriptor quantization(final Quantization algorithm, final DataType wireType) {
        return new ReduceDescriptor(count, dataType, op, tag, algorithm,
                algorithm == Quantization.NONE ? dataType : wireType);
    }

    /** @return number of elements */
    public long count() {
        return count;
    }

    /** @return element type */
    public DataType dataType() {
        return dataType;
    }

    /** @return reduction */
    public ReduceOp op() {
        return op;
    }

    /** @return the tag */
    public long tag() {
        return tag;
    }

    /** @return the quantization algorithm */
    public Quantization quantization() {
        return quantization;
    }

    /** @return the type values travel in ({@link #dataType()} without quantization) */
    public DataType quantizedType() {
        return quantizedType;
    }

    /** @return size of the operand in bytes */
    public long sizeBytes() {
        return count * dataType.sizeBytes();
    }

    @Override
    public boolean equals(final Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof ReduceDescriptor)) {
            return false;
        }
        final ReduceDescriptor d = (ReduceDescriptor) o;
        return count == d.count && tag == d.tag && dataType == d.dataType && op == d.op
                && quantization == d.quantization && quantizedType == d.quantizedType;
    }

    @Override
    public int hashCode() {
        return Objects.hash(count, dataType, op, tag, quantization, quantizedType);
    }

    @Override
    public String toString() {
        return "ReduceDescriptor{count=" + count + ", type=" + dataType + ", op=" + op + ", tag=" + tag
                + (quantization == Quantization.NONE ? "" : ", quantization=" + quantization + "/" + quantizedType)
                + '}';
    }
}
