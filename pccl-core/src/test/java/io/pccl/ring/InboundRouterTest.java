package io.pccl.ring;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pccl.PcclException;
import io.pccl.PeerLostException;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Routing, parking, dropping and failure of {@link InboundRouter}. Confined to the test thread.
 */
class InboundRouterTest {
    /** Records what it receives and releases frames. Confined to the test thread. */
    private static class RecordingSink implements FrameSink {
        final List<Long> steps = new ArrayList<>();
        PcclException failure;
        int placementsReleased;

        @Override
        public void onPlacementReleased() {
            placementsReleased++;
        }

        @Override
        public void onFrame(final ByteBuf frame, final FrameCredit credit) {
            steps.add((long) DataFrameFlyweight.step(frame));
            final int bytes = frame.readableBytes();
            frame.release();
            credit.release(bytes);
        }

        @Override
        public void onInboundFailed(final PcclException cause) {
            failure = cause;
        }
    }

    private static ByteBuf frame(final long seq, final long tag, final int step) {
        final ByteBuf b = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(b, seq, tag, DataFrameFlyweight.STAGE_REDUCE_SCATTER, step, 0, 0, 4);
        b.writeIntLE(step);
        return b;
    }

    @Test
    void shouldRouteBySeqAndTagAndDeliverParkedFramesInOrderOnRegister() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final RecordingSink a = new RecordingSink();
        router.register(1, 7, a);
        router.onFrame(frame(2, 7, 0)); // not registered yet: parked
        router.onFrame(frame(1, 7, 0));
        router.onFrame(frame(2, 7, 1));
        assertEquals(List.of(0L), a.steps);
        assertEquals(2, router.parkedFrames());
        final RecordingSink b = new RecordingSink();
        router.register(2, 7, b);
        assertEquals(List.of(0L, 1L), b.steps);
        assertEquals(0, router.parkedFrames());
        router.onFrame(frame(2, 7, 2));
        assertEquals(List.of(0L, 1L, 2L), b.steps);
        assertEquals(0, router.droppedFrames());
    }

    /** Offers every frame's payload a place in a buffer of its own. Confined to the test thread. */
    private static final class PlacingSink extends RecordingSink {
        final List<ByteBuf> targets = new ArrayList<>();
        /** Set by a test: the router whose lock must not be held during {@link #afterPlacedFrame}. */
        Object router;
        int afterPlaced;
        boolean routerLockHeldAfterPlaced;

        @Override
        public void afterPlacedFrame() {
            afterPlaced++;
            routerLockHeldAfterPlaced |= router != null && Thread.holdsLock(router);
        }

        @Override
        public ByteBuf placement(final ByteBuf header) {
            final ByteBuf t = Unpooled.buffer(DataFrameFlyweight.payloadLength(header));
            targets.add(t);
            return t.retain();
        }
    }

    private static ByteBuf placedHeader(final long seq, final long tag, final int step) {
        final ByteBuf b = Unpooled.buffer();
        DataFrameFlyweight.writeHeader(b, seq, tag, DataFrameFlyweight.STAGE_REDUCE_SCATTER, step, 0, 0, 4);
        b.setByte(DataFrameFlyweight.FLAGS_OFFSET, DataFrameFlyweight.FLAG_PLACED);
        return b;
    }

    @Test
    void shouldHandAPlacedHeaderToItsOperationAndForgetTheGrant() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final PlacingSink a = new PlacingSink();
        a.router = router;
        router.register(1, 7, a);
        final ByteBuf header = frame(1, 7, 0);
        final Placement p = router.place(header, Runnable::run);
        header.release();
        assertNotNull(p);
        assertEquals(4, p.target().writableBytes());
        p.target().writeIntLE(42);
        p.target().release();
        router.onFrame(placedHeader(1, 7, 0));
        assertEquals(List.of(0L), a.steps);
        assertEquals(1, a.afterPlaced, "the operation may handle the frame on the reading thread");
        assertFalse(a.routerLockHeldAfterPlaced, "but not under the router's lock");
        assertEquals(42, a.targets.get(0).getIntLE(0));
        // Nothing is pending: the operation may let go of its memory at once.
        assertFalse(router.unregister(1, 7));
        assertEquals(0, a.placementsReleased);
    }

    /**
     * One operation's frames come over one connection, but a second connection may claim the same predecessor (a
     * buggy or hostile dialer). Were it granted a placement in the same operation while the first connection's grant is
     * open, the second connection's placed header would be matched to the first grant (both have the same seq and
     * tag) and release it; the operation could then fail and let go of its memory while the first connection still
     * writes into it.
     */
    @Test
    void shouldGrantAnOperationOnePlacementAtATime() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final PlacingSink a = new PlacingSink();
        router.register(1, 7, a);
        final List<Runnable> firstWriter = new ArrayList<>();
        final ByteBuf first = frame(1, 7, 0);
        final Placement p = router.place(first, firstWriter::add);
        first.release();
        assertNotNull(p);
        final ByteBuf second = frame(1, 7, 1);
        assertNull(router.place(second, Runnable::run), "a second grant in the operation while the first is open");
        second.release();
        assertTrue(router.unregister(1, 7), "the first connection may still be writing: the operation must wait");
        assertTrue(p.isCancelled());
        assertEquals(1, firstWriter.size());
        firstWriter.get(0).run();
        assertEquals(1, a.placementsReleased);
        p.target().release();
    }

    @Test
    void shouldGrantTheNextPlacementOnceTheFirstWasRouted() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final PlacingSink a = new PlacingSink();
        router.register(1, 7, a);
        final ByteBuf first = frame(1, 7, 0);
        final Placement p = router.place(first, Runnable::run);
        first.release();
        p.target().release();
        router.onFrame(placedHeader(1, 7, 0));
        final ByteBuf next = frame(1, 7, 1);
        final Placement q = router.place(next, Runnable::run);
        next.release();
        assertNotNull(q);
        q.target().release();
        router.onFrame(placedHeader(1, 7, 1));
        assertEquals(List.of(0L, 1L), a.steps);
        assertFalse(router.unregister(1, 7));
    }

    @Test
    void shouldNotPlaceForUnknownOrDecliningOperations() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final ByteBuf header = frame(1, 7, 0);
        assertNull(router.place(header, Runnable::run), "not registered");
        router.register(1, 7, new RecordingSink());
        assertNull(router.place(header, Runnable::run), "the sink receives normally");
        header.release();
    }

    /**
     * Registers (1, 7), grants a placement whose writer's tasks go to {@code writerTasks}, then unregisters while the
     * placement is outstanding (the operation failed while its connection may still be writing): the caller must
     * wait.
     */
    private static Placement grantThenUnregister(final InboundRouter router, final PlacingSink sink,
                                                 final List<Runnable> writerTasks) {
        router.register(1, 7, sink);
        final ByteBuf header = frame(1, 7, 0);
        final Placement p = router.place(header, writerTasks::add);
        header.release();
        assertNotNull(p);
        assertTrue(router.unregister(1, 7));
        return p;
    }

    @Test
    void cancelledPlacementIsReleasedOnlyOnceItsWriterAcknowledged() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final PlacingSink a = new PlacingSink();
        final List<Runnable> writerTasks = new ArrayList<>();
        final Placement p = grantThenUnregister(router, a, writerTasks);
        assertTrue(p.isCancelled());
        assertEquals(0, a.placementsReleased);
        assertEquals(1, writerTasks.size(), "acknowledgement queued on the writer's event loop");
        writerTasks.get(0).run();
        assertEquals(1, a.placementsReleased);
        // The connection, finishing the payload later, routes the header: dropped, not delivered, not re-released.
        p.target().release();
        router.onFrame(placedHeader(1, 7, 0));
        router.release(p);
        assertEquals(List.of(), a.steps);
        assertEquals(0, a.afterPlaced, "a dropped header is not the operation's to handle");
        assertEquals(1, a.placementsReleased);
        assertEquals(1, router.droppedFrames());
    }

    @Test
    void cancelledPlacementSeenByItsWriterFirstIsReleasedOnce() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final PlacingSink a = new PlacingSink();
        final List<Runnable> writerTasks = new ArrayList<>();
        final Placement p = grantThenUnregister(router, a, writerTasks);
        // The connection notices at its next read and gives the grant up; the queued acknowledgement is a no-op.
        p.target().release();
        router.release(p);
        assertEquals(1, a.placementsReleased);
        writerTasks.get(0).run();
        assertEquals(1, a.placementsReleased);
    }

    @Test
    void shouldDropAndCountFramesOfFinishedOperations() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final RecordingSink a = new RecordingSink();
        router.register(1, 7, a);
        router.unregister(1, 7);
        router.onFrame(frame(1, 7, 3));
        assertEquals(1, router.droppedFrames());
        assertEquals(DataFrameFlyweight.HEADER_LENGTH + 4, router.droppedBytes());
        assertEquals(0, router.parkedFrames());
        assertEquals(List.of(), a.steps);
    }

    @Test
    void shouldDropParkedFramesOverTheByteLimitOrTooOld() {
        final long[] now = {1_000};
        final InboundRouter router = new InboundRouter(new ParkingBudget(2L * (DataFrameFlyweight.HEADER_LENGTH + 4)),
                new DropCounter(), TimeUnit.MILLISECONDS.toNanos(1), () -> now[0]);
        router.onFrame(frame(5, 1, 0));
        router.onFrame(frame(5, 1, 1));
        router.onFrame(frame(5, 1, 2)); // over the limit
        assertEquals(1, router.droppedFrames());
        now[0] += TimeUnit.MILLISECONDS.toNanos(1) + 1; // the parked frames are now too old
        final RecordingSink s = new RecordingSink();
        router.register(5, 1, s);
        assertEquals(List.of(), s.steps);
        assertEquals(3, router.droppedFrames());
    }

    @Test
    void shouldShareOneParkingBudgetBetweenRoutersAndGetItBackOnDeliveryAndFailure() {
        final int frameBytes = DataFrameFlyweight.HEADER_LENGTH + 4;
        final ParkingBudget budget = new ParkingBudget(2L * frameBytes);
        final DropCounter drops = new DropCounter();
        final InboundRouter predecessor = new InboundRouter(budget, drops, TimeUnit.SECONDS.toNanos(10));
        final InboundRouter otherId = new InboundRouter(budget, drops, TimeUnit.SECONDS.toNanos(10));
        otherId.onFrame(frame(1, 1, 0));
        otherId.onFrame(frame(1, 1, 1));
        assertEquals(2L * frameBytes, budget.usedBytes());
        // Frames claimed by another dialer used the budget up: this early frame is dropped, not held.
        predecessor.onFrame(frame(4, 2, 0));
        assertEquals(1, predecessor.droppedFrames());
        assertEquals(0, predecessor.parkedFrames());
        otherId.onPredecessorLost(new PeerLostException("gone"));
        assertEquals(0, budget.usedBytes());
        // The shared total counts both routers' drops: the one above and the two parked frames the loss dropped.
        assertEquals(1, predecessor.droppedFrames());
        assertEquals(2, otherId.droppedFrames());
        assertEquals(3, drops.frames());
        assertEquals(3L * frameBytes, drops.bytes());
        predecessor.onFrame(frame(4, 2, 1));
        assertEquals(frameBytes, budget.usedBytes());
        final RecordingSink s = new RecordingSink();
        predecessor.register(4, 2, s);
        assertEquals(List.of(1L), s.steps);
        assertEquals(0, budget.usedBytes());
    }

    @Test
    void shouldFailRegisteredAndLaterSinksWhenPredecessorLost() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        final RecordingSink a = new RecordingSink();
        router.register(1, 1, a);
        router.onFrame(frame(9, 9, 0));
        final PeerLostException cause = new PeerLostException("gone");
        router.onPredecessorLost(cause);
        assertSame(cause, a.failure);
        assertEquals(1, router.droppedFrames());
        final RecordingSink b = new RecordingSink();
        router.register(2, 1, b);
        assertSame(cause, b.failure);
        router.onFrame(frame(2, 1, 0));
        assertEquals(2, router.droppedFrames());
    }

    @Test
    void shouldRejectDuplicateRegistration() {
        final InboundRouter router = new InboundRouter(1 << 20, TimeUnit.SECONDS.toNanos(10));
        router.register(1, 1, new RecordingSink());
        final PcclException e = assertThrows(PcclException.class, () -> router.register(1, 1, new RecordingSink()));
        assertEquals(PcclException.Code.FAILED_PRECONDITION, e.code());
    }

    @Test
    void shouldReturnEveryFrameCreditOnceWhetherConsumedParkedOrDropped() {
        final long[] returned = new long[1];
        final FrameCredit credit = bytes -> returned[0] += bytes;
        final int frameBytes = DataFrameFlyweight.HEADER_LENGTH + 4;
        final InboundRouter router = new InboundRouter(frameBytes, TimeUnit.SECONDS.toNanos(10));
        final RecordingSink a = new RecordingSink();
        router.register(1, 1, a);
        router.onFrame(frame(1, 1, 0), credit); // consumed by the sink
        assertEquals(frameBytes, returned[0]);
        router.onFrame(frame(2, 1, 0), credit); // parked: credit held
        assertEquals(frameBytes, returned[0]);
        router.onFrame(frame(2, 1, 1), credit); // over the park limit: dropped, credit back
        assertEquals(2L * frameBytes, returned[0]);
        router.unregister(1, 1);
        router.onFrame(frame(1, 1, 1), credit); // finished operation: dropped
        assertEquals(3L * frameBytes, returned[0]);
        final RecordingSink b = new RecordingSink();
        router.register(2, 1, b); // the parked frame reaches its sink, which returns the credit
        assertEquals(List.of(0L), b.steps);
        assertEquals(4L * frameBytes, returned[0]);
        router.onFrame(frame(3, 1, 0), credit); // parked, then released when the predecessor is lost
        router.onPredecessorLost(new PeerLostException("gone"));
        assertEquals(5L * frameBytes, returned[0]);
    }
}
