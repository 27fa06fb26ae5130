package io.pccl.ring.internal;

import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.quant.MinMaxQuantizer;
import io.pccl.quant.SliceQuantizer;
import io.pccl.quant.ZeroPointScaleQuantizer;

import java.nio.ByteBuffer;

/**
 * One quantization algorithm as the ring sees it: a slice travels as the algorithm's metadata followed by one
 * quantized value per element ({@link QuantizedSlices} frames it). Implementations hold the operation's scratch
 * metadata.
 *
 * <p>Not thread-safe: one instance per operation, confined to its active runner.
 */
interface SliceCodec {
    /**
     * The codec of a quantized descriptor.
     *
     * @param d the descriptor
     * @return a new codec, or null for {@code Quantization.NONE}
     * @throws PcclException {@code INVALID_ARGUMENT} for a type pair or op the algorithm does not take
     *                       ({@code ZERO_POINT_SCALE} folds only {@code SUM} and {@code AVG})
     */
    static SliceCodec of(final ReduceDescriptor d) {
        switch (d.quantization()) {
            case NONE:
                return null;
            case MIN_MAX:
                return new Quantized<>(MinMaxQuantizer.of(d.dataType(), d.quantizedType()));
            case ZERO_POINT_SCALE:
                ZeroPointScaleQuantizer.checkOp(d.op());
                return new Quantized<>(ZeroPointScaleQuantizer.of(d.dataType(), d.quantizedType()));
            default:
                throw new PcclException(PcclException.Code.FAILED_PRECONDITION, "ring all-reduce (" + d
                        + "): quantization " + d.quantization() + " is not implemented");
        }
    }

    /** @return bytes of metadata at the start of every slice */
    int metaBytes();

    /** @return bytes per quantized value */
    int quantBytes();

    /**
     * Writes the slice's metadata at {@code at} and its quantized values after it.
     *
     * @param src source values
     * @param srcOffset absolute byte index of the first value
     * @param count elements
     * @param out the payload
     * @param at absolute byte index of the payload's start
     * @param keepDecoded whether to overwrite the source values with their decoded values in the same pass
     */
    void encode(ByteBuffer src, int srcOffset, int count, ByteBuffer out, int at, boolean keepDecoded);

    /**
     * Overwrites values with a payload's decoded values.
     *
     * @param in the payload
     * @param at absolute byte index of the payload's start
     * @param count elements in it
     * @param dst destination
     * @param dstOffset absolute byte index of the first value
     * @throws PcclException {@code PROTOCOL_VIOLATION} for metadata no peer could have sent
     */
    void decodeInto(ByteBuffer in, int at, int count, ByteBuffer dst, int dstOffset);

    /**
     * Folds a payload's decoded values into an accumulator.
     *
     * @param op the fold ({@code SUM} for an average)
     * @param acc accumulator
     * @param accOffset absolute byte index of the first value
     * @param in the payload
     * @param at absolute byte index of the payload's start
     * @param count elements in it
     * @throws PcclException {@code PROTOCOL_VIOLATION} for metadata no peer could have sent
     */
    void accumulate(ReduceOp op, ByteBuffer acc, int accOffset, ByteBuffer in, int at, int count);

    /**
     * The codec of any {@link SliceQuantizer}: its metadata at the start of the payload, its values after it.
     *
     * @param <M> the quantizer's metadata holder
     */
    final class Quantized<M> implements SliceCodec {
        private final SliceQuantizer<M> quantizer;
        private final M meta;
        private final int metaBytes;

        Quantized(final SliceQuantizer<M> quantizer) {
            this.quantizer = quantizer;
            this.meta = quantizer.newMeta();
            this.metaBytes = quantizer.metaBytes();
        }

        @Override
        public int metaBytes() {
            return metaBytes;
        }

        @Override
        public int quantBytes() {
            return quantizer.quantizedType().sizeBytes();
        }

        @Override
        public void encode(final ByteBuffer src, final int srcOffset, final int count, final ByteBuffer out,
                           final int at, final boolean keepDecoded) {
            quantizer.computeMeta(src, srcOffset, count, meta);
            quantizer.writeMeta(meta, out, at);
            if (keepDecoded) {
                quantizer.quantizeAndDecode(src, srcOffset, out, at + metaBytes, count, meta, src, srcOffset);
            } else {
                quantizer.quantize(src, srcOffset, out, at + metaBytes, count, meta);
            }
        }

        @Override
        public void decodeInto(final ByteBuffer in, final int at, final int count, final ByteBuffer dst,
                               final int dstOffset) {
            quantizer.readMeta(meta, in, at);
            quantizer.dequantizeInto(in, at + metaBytes, dst, dstOffset, count, meta);
        }

        @Override
        public void accumulate(final ReduceOp op, final ByteBuffer acc, final int accOffset, final ByteBuffer in,
                               final int at, final int count) {
            quantizer.readMeta(meta, in, at);
            quantizer.dequantizeAccumulate(op, acc, accOffset, in, at + metaBytes, count, meta);
        }
    }
}
