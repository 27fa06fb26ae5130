package io.pccl.quant;

import io.pccl.PcclException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Argument checks shared by the quantizers: every buffer is a little-endian view whose touched bytes lie below its
 * limit, and every failure is an {@code INVALID_ARGUMENT} naming the value and the bound.
 *
 * <p>Thread-safe (stateless).
 */
final class QuantArgs {
    private QuantArgs() {
    }

    /**
     * Checks that {@code count} elements of {@code elementBytes} at {@code offsetBytes} fit below the limit.
     *
     * @param name the buffer's role, for the message
     * @param buf the buffer
     * @param offsetBytes absolute byte index of the first element
     * @param count elements
     * @param elementBytes bytes per element
     * @param writable whether the buffer is written
     * @throws PcclException {@code INVALID_ARGUMENT} naming what is wrong
     */
    static void checkRange(final String name, final ByteBuffer buf, final int offsetBytes, final int count,
                           final int elementBytes, final boolean writable) {
        if (buf == null) {
            throw invalid(name + " buffer is null");
        }
        if (buf.order() != ByteOrder.LITTLE_ENDIAN) {
            throw invalid(name + " buffer order is " + buf.order() + ", must be LITTLE_ENDIAN");
        }
        if (writable && buf.isReadOnly()) {
            throw invalid(name + " buffer is read-only");
        }
        if (offsetBytes < 0 || count < 0) {
            throw invalid(name + " offset " + offsetBytes + " and count " + count + " must be >= 0");
        }
        final long endBytes = offsetBytes + (long) count * elementBytes;
        if (endBytes > buf.limit()) {
            throw invalid(name + " range [" + offsetBytes + ", " + endBytes + ") of " + count + " elements of "
                    + elementBytes + " bytes exceeds the buffer limit " + buf.limit());
        }
    }

    /**
     * @param message what is wrong
     * @return an {@code INVALID_ARGUMENT} exception
     */
    static PcclException invalid(final String message) {
        return new PcclException(PcclException.Code.INVALID_ARGUMENT, message);
    }
}
