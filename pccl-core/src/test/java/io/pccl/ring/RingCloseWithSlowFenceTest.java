package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.local.LocalRingNetwork;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Regression: an operation whose failure fence completes only after {@link RingAllReduce#close()} stopped the engine
 * threads still finishes its failure (restores its in-place input, leaves the engine's running set) instead of
 * completing its future with the cleanup skipped.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class RingCloseWithSlowFenceTest {
    @Test
    void aFenceThatCompletesAfterCloseStillRestoresTheInPlaceInput() throws Exception {
        final int w = 2;
        final int count = 100_000;
        final long seed = 11L;
        System.out.println("seed " + seed);
        final ByteBuffer[] in = RingTestAccess.inputs(DataType.INT32, count, w, seed);
        final ByteBuffer original = copyOf(in[0]);
        final RingAllReduce engine = RingAllReduce.builder().threads(2).build();
        final LocalRingNetwork net = new LocalRingNetwork(w, 1);
        // Rank 0's frames never reach rank 1, so rank 0 folds rank 1's chunk into its buffer and then waits forever.
        net.stall(0, true);
        final HeldFenceTransport held = new HeldFenceTransport(net.transport(0));
        final RingOperation[] ops = new RingOperation[w];
        for (int r = 0; r < w; r++) {
            ops[r] = engine.start(new RingOpContext(new long[] {1, 2}, r, 0,
                    ReduceDescriptor.of(count, DataType.INT32, ReduceOp.SUM).tag(4), in[r], in[r],
                    r == 0 ? held : net.transport(r)));
        }
        assertTrue(held.allGatherSent.await(10, TimeUnit.SECONDS), "rank 0 never reached its all-gather");
        assertNotEquals(original, in[0].duplicate().clear(), "rank 0 should have folded into its in-place input");
        // Rank 1's abort frame would otherwise race close() to fail rank 0 (PEER_LOST instead of CLOSED).
        net.drop(1, true);

        engine.close(); // aborts both; rank 0's failure fence is held past close's bounded wait
        assertEquals(1, held.heldFences.size(), "rank 0's failure fence");
        held.releaseFences();

        final ExecutionException e = assertThrows(ExecutionException.class,
                () -> ops[0].future().get(10, TimeUnit.SECONDS));
        assertInstanceOf(PcclException.class, e.getCause());
        assertEquals(PcclException.Code.CLOSED, ((PcclException) e.getCause()).code());
        assertEquals(original, in[0].duplicate().clear(), "the in-place input must be restored");
        assertEquals(0, engine.runningOperations(), "the failed operation must leave the engine");
        net.close();
    }

    private static ByteBuffer copyOf(final ByteBuffer b) {
        final ByteBuffer c = ByteBuffer.allocate(b.capacity()).order(b.order());
        c.put(b.duplicate().clear()).flip();
        return c;
    }

    /** Rank 0's transport: fences wait until the test releases them; signals its first all-gather frame. */
    private static final class HeldFenceTransport implements RingTransport {
        final RingTransport delegate;
        final List<RingLink.FenceListener> heldFences = new CopyOnWriteArrayList<>();
        final CountDownLatch allGatherSent = new CountDownLatch(1);

        HeldFenceTransport(final RingTransport delegate) {
            this.delegate = delegate;
        }

        void releaseFences() {
            for (final RingLink.FenceListener l : heldFences) {
                l.onFenced(true);
            }
        }

        @Override
        public int poolSize() {
            return delegate.poolSize();
        }

        @Override
        public InboundRouter inbound() {
            return delegate.inbound();
        }

        @Override
        public RingLink successor(final long seq) {
            final RingLink link = delegate.successor(seq);
            return new RingLink() {
                @Override
                public int trySend(final long s, final long tag, final int stage, final int step,
                                   final int chunkIndex, final long chunkOffsetBytes, final ByteBuf payload) {
                    if (stage == DataFrameFlyweight.STAGE_ALL_GATHER) {
                        allGatherSent.countDown();
                    }
                    return link.trySend(s, tag, stage, step, chunkIndex, chunkOffsetBytes, payload);
                }

                @Override
                public boolean isWritable() {
                    return link.isWritable();
                }

                @Override
                public void fence(final FenceListener listener) {
                    heldFences.add(listener);
                }

                @Override
                public void addListener(final Listener listener) {
                    link.addListener(listener);
                }

                @Override
                public void removeListener(final Listener listener) {
                    link.removeListener(listener);
                }
            };
        }
    }
}
