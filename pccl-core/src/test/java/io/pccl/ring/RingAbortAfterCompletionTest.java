package io.pccl.ring;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.local.LocalRingNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression: aborting an operation that already completed (the master's abort racing the local success) is a
 * no-op; it used to leave the operation's run loop spinning on an engine thread, so {@code close()} waited for its
 * bounded termination (5 s).
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingAbortAfterCompletionTest {
    @Test
    void abortAfterCompletionLeavesTheEngineIdleAndCloseQuick() throws Exception {
        final int w = 2;
        final int count = 10_000;
        final ByteBuffer[] in = RingTestAccess.inputs(DataType.INT32, count, w, 5L);
        final ByteBuffer expected = RingTestAccess.expected(DataType.INT32, ReduceOp.SUM, in, count);
        final RingAllReduce engine = RingAllReduce.builder().threads(2).build();
        final LocalRingNetwork net = new LocalRingNetwork(w, 1);
        final RingOperation[] ops = new RingOperation[w];
        for (int r = 0; r < w; r++) {
            ops[r] = engine.start(new RingOpContext(new long[] {1, 2}, r, 0,
                    ReduceDescriptor.of(count, DataType.INT32, ReduceOp.SUM).tag(3), in[r], in[r], net.transport(r)));
        }
        for (int r = 0; r < w; r++) {
            ops[r].future().get(10, TimeUnit.SECONDS);
            assertEquals(expected, in[r]);
            ops[r].abort(new PcclException(PcclException.Code.PEER_LOST, "late abort"));
        }
        final long start = System.nanoTime();
        engine.close();
        net.close();
        final long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(ms < 1000, "close took " + ms + " ms");
        for (int r = 0; r < w; r++) {
            assertEquals(expected, in[r], "a late abort must not restore or touch the result");
        }
    }
}
