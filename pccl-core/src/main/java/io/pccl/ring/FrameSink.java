package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.pccl.PcclException;

/**
 * Receives the data frames of one operation from the {@link InboundRouter}.
 *
 * <p>Implementations are thread-safe: methods are called on transport threads (event loops) and must neither
 * block nor throw.
 */
public interface FrameSink {
    /**
     * One frame of this operation, in the order the predecessor sent it.
     *
     * @param frame header + payload ({@code DataFrameFlyweight} layout) at the reader index, possibly a composite
     *              of several buffers; ownership passes to the sink, which must release it
     * @param credit the sink calls {@code credit.release(bytes)} with the frame's readable bytes once it consumed
     *               or dropped the frame (any thread)
     */
    void onFrame(ByteBuf frame, FrameCredit credit);

    /**
     * The predecessor was lost; no more frames will come.
     *
     * @param cause why
     */
    void onInboundFailed(PcclException cause);
}
