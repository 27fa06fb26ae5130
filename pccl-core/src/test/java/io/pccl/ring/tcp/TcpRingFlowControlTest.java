package io.pccl.ring.tcp;

import io.pccl.DataType;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.RingAllReduce;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.ring.RingTestAccess;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Receive-side flow control over loopback TCP: while the receiving peer's engine is stalled, the bytes it holds
 * stay within the configured limit (the connection stops reading instead of buffering the predecessor's whole
 * chunk), and the operation completes correctly once the engine runs again. With direct receive buffers the
 * payloads are read straight into place instead, so nothing but frame headers is held and reading never pauses.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class TcpRingFlowControlTest {
    private static final long SEED = 20261128L;
    private static final int SLICE = 256 << 10;
    private static final long BUDGET = 2L << 20;
    /** Documented bound: the limit plus the frame that crossed it plus the rest of that read. */
    private static final long BOUND = BUDGET + 2L * (SLICE + DataFrameFlyweight.HEADER_LENGTH);
    /** Placed frames hold only their headers until the engine consumes them: one per slice of the 32 MiB. */
    private static final long HEADERS_ONLY = (32L << 20) / SLICE * DataFrameFlyweight.HEADER_LENGTH;

    @Test
    void shouldBoundBufferedBytesWhileTheReceiverIsStalled() throws Exception {
        // Heap receive buffers cannot be read into by the socket: every frame is buffered (the path under test).
        runWithRank1Stalled(false);
    }

    @Test
    void placedPayloadsNeedNoBufferingWhileTheReceiverIsStalled() throws Exception {
        runWithRank1Stalled(true);
    }

    /**
     * W = 2, 32 MiB: rank 1's only engine thread is blocked while rank 0 sends its 16 MiB chunk; then the stall
     * ends and both ranks must get the exact result.
     *
     * @param placed direct receive buffers (payloads placed by the socket) rather than heap ones (buffered)
     */
    private static void runWithRank1Stalled(final boolean placed) throws Exception {
        System.out.println("seed " + SEED + ", placed " + placed);
        final int w = 2;
        final int count = 8 << 20; // 32 MiB float32: rank 0 sends a 16 MiB chunk at step 0
        final CountDownLatch stall = new CountDownLatch(1);
        try (RingAllReduce free = RingAllReduce.builder().sliceBytes(SLICE).threads(1).build();
             RingAllReduce stalled = RingAllReduce.builder().sliceBytes(SLICE).threads(1).build();
             TcpRing net = new TcpRing(w, 1, SLICE, TcpRingTransport.DEFAULT_HIGH_WATER_BYTES, 2, BUDGET)) {
            final RingAllReduce[] engines = {free, stalled};
            // A small first operation whose completion callback blocks rank 1's only engine thread.
            final ByteBuffer[] small = {direct(4), direct(4)};
            final RingOperation blocker = stalled.start(ctx(1, 1, 1, small[1], small[1], net));
            blocker.future().thenRun(() -> {
                try {
                    stall.await(30, TimeUnit.SECONDS);
                } catch (final InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            free.start(ctx(0, 1, 1, small[0], small[0], net)).future().get(10, TimeUnit.SECONDS);

            final ByteBuffer[] inputs = RingTestAccess.inputs(DataType.FLOAT32, count, w, SEED);
            final ByteBuffer[] recv = placed ? new ByteBuffer[] {direct(count * 4), direct(count * 4)}
                    : new ByteBuffer[] {heap(count * 4), heap(count * 4)};
            final RingOperation[] ops = new RingOperation[w];
            for (int r = w - 1; r >= 0; r--) {
                ops[r] = engines[r].start(ctx(r, 2, count, inputs[r], recv[r], net));
            }
            final List<DataFrameInboundHandler> handlers = net.inboundHandlers(1);
            assertEquals(1, handlers.size());
            final DataFrameInboundHandler h = handlers.get(0);
            if (placed) {
                // Rank 0 sends all of step 0 (16 MiB) at once; far more than the socket buffers hold, so rank 1's
                // event loop must be reading it, straight into recv, while rank 1's engine is blocked.
                RingTestAccess.awaitUntil(() -> ops[0].txBytes() >= (long) count * 4 / w, "rank 0 to send its chunk");
                assertFalse(h.isPaused(), "placed payloads are not buffered, so reading never pauses");
                assertTrue(h.bufferedBytes() <= HEADERS_ONLY, "buffered " + h.bufferedBytes() + " > "
                        + HEADERS_ONLY);
            } else {
                RingTestAccess.awaitUntil(h::isPaused, "rank 1's inbound connection to pause");
                assertTrue(h.bufferedBytes() <= BOUND, "buffered " + h.bufferedBytes() + " > bound " + BOUND);
            }
            assertFalse(ops[0].future().isDone());
            assertFalse(ops[1].future().isDone());

            stall.countDown();
            final ByteBuffer expected = RingTestAccess.expected(DataType.FLOAT32, ReduceOp.SUM, inputs, count);
            for (int r = 0; r < w; r++) {
                ops[r].future().get(30, TimeUnit.SECONDS);
                assertEquals(expected, recv[r].duplicate().clear(), "rank " + r);
            }
            for (int r = 0; r < w; r++) {
                // Placed: rank 1 registered its operation before rank 0 started, so everything rank 0 sent was
                // placed; rank 0 may have parked (buffered) rank 1's first slices, sent before rank 0 registered.
                final long limit = placed && r == 1 ? HEADERS_ONLY : BOUND;
                for (final DataFrameInboundHandler in : net.inboundHandlers(r)) {
                    System.out.println("rank " + r + " peak buffered " + in.peakBufferedBytes() + " B (limit " + limit
                            + ", flow-control budget " + BUDGET + ")");
                    assertTrue(in.peakBufferedBytes() <= limit, "peak " + in.peakBufferedBytes() + " > " + limit);
                    assertTrue(in.peakBufferedBytes() > 0);
                }
            }
            RingTestAccess.awaitUntil(() -> h.bufferedBytes() == 0 && !h.isPaused(), "credits to return");
        }
    }

    private static ByteBuffer heap(final int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer direct(final int bytes) {
        return ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static RingOpContext ctx(final int rank, final long seq, final long count, final ByteBuffer send,
                                     final ByteBuffer recv, final TcpRing net) {
        return new RingOpContext(new long[] {1, 2}, rank, seq,
                ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM), send, recv, net.transports[rank]);
    }
}
