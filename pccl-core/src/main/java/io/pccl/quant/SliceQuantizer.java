package io.pccl.quant;

import io.pccl.DataType;
import io.pccl.ReduceOp;

import java.nio.ByteBuffer;

/**
 * A quantization algorithm as a transfer uses it: per slice of values, metadata computed from the slice, then one
 * quantized value per element; decoding is a deterministic function of the quantized bytes and the metadata, so
 * every peer that decodes the same bytes gets the same bits. Offsets are absolute byte indexes into little-endian
 * buffers; positions and limits are neither used nor changed. See {@link MinMaxQuantizer} and
 * {@link ZeroPointScaleQuantizer} for the algorithms and their checks.
 *
 * <p>Implementations are thread-safe (immutable); the metadata objects they create are not.
 *
 * @param <M> the metadata holder
 */
public interface SliceQuantizer<M> {
    /** @return the type of the values being quantized */
    DataType sourceType();

    /** @return the type the values travel in */
    DataType quantizedType();

    /** @return a fresh metadata holder for this quantizer's source type */
    M newMeta();

    /** @return bytes of metadata on the wire */
    int metaBytes();

    /**
     * Writes metadata little-endian at an absolute index.
     *
     * @param meta the metadata
     * @param dst destination
     * @param offsetBytes absolute byte index
     */
    void writeMeta(M meta, ByteBuffer dst, int offsetBytes);

    /**
     * Reads metadata a peer wrote.
     *
     * @param meta receives it
     * @param src source
     * @param offsetBytes absolute byte index
     * @throws io.pccl.PcclException {@code PROTOCOL_VIOLATION} for metadata no peer could have written
     */
    void readMeta(M meta, ByteBuffer src, int offsetBytes);

    /**
     * Computes a slice's metadata.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param count values
     * @param meta receives the metadata
     */
    void computeMeta(ByteBuffer src, int srcOffsetBytes, int count, M meta);

    /**
     * Quantizes values.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives the quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count values
     * @param meta the slice's metadata
     */
    void quantize(ByteBuffer src, int srcOffsetBytes, ByteBuffer dst, int dstOffsetBytes, int count, M meta);

    /**
     * Quantizes values and writes their decoded values in one pass, bit for bit what {@link #quantize} and then
     * {@link #dequantizeInto} give.
     *
     * @param src source values
     * @param srcOffsetBytes absolute byte index of the first value
     * @param dst receives the quantized values
     * @param dstOffsetBytes absolute byte index of the first quantized value
     * @param count values
     * @param meta the slice's metadata
     * @param decoded receives the decoded values; may be {@code src} at the same offset
     * @param decodedOffsetBytes absolute byte index of the first decoded value
     */
    void quantizeAndDecode(ByteBuffer src, int srcOffsetBytes, ByteBuffer dst, int dstOffsetBytes, int count, M meta,
                           ByteBuffer decoded, int decodedOffsetBytes);

    /**
     * Overwrites values with decoded ones.
     *
     * @param q quantized values
     * @param qOffsetBytes absolute byte index of the first quantized value
     * @param dst destination
     * @param dstOffsetBytes absolute byte index of the first value
     * @param count values
     * @param meta the slice's metadata
     */
    void dequantizeInto(ByteBuffer q, int qOffsetBytes, ByteBuffer dst, int dstOffsetBytes, int count, M meta);

    /**
     * Folds decoded values into an accumulator, bit for bit {@link #dequantizeInto} followed by the reduce kernel.
     *
     * @param op the fold ({@code AVG} folds a sum)
     * @param acc accumulator
     * @param accOffsetBytes absolute byte index of the first value
     * @param q quantized values
     * @param qOffsetBytes absolute byte index of the first quantized value
     * @param count values
     * @param meta the slice's metadata
     */
    void dequantizeAccumulate(ReduceOp op, ByteBuffer acc, int accOffsetBytes, ByteBuffer q, int qOffsetBytes,
                              int count, M meta);
}
