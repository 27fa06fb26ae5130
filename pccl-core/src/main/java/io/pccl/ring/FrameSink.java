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
     * @param frame header + payload ({@code DataFrameFlyweight} layout) at the reader index; ownership passes to
     *              the sink, which must release it
     */
    void onFrame(ByteBuf frame);

    /**
     * The predecessor was lost; no more frames will come.
     *
     * @param cause why
     */
    void onInboundFailed(PcclException cause);
}
