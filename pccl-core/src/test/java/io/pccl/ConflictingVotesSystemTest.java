package io.pccl;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Peers of one group casting different kinds of group votes at the same time: whichever kind reaches the master
 * second is refused for its sender at once with {@code FAILED_PRECONDITION} naming the vote in progress (well
 * before any timeout), and the vote in progress completes once the refused peer joins it. Which kind arrives first
 * is up to the scheduler, so each test follows both branches and asserts the outcome of the one that happened.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConflictingVotesSystemTest {
    private static final long QUICK_MS = TimeUnit.SECONDS.toMillis(AllReduceCluster.BOUND_S) / 2;

    @Test
    void shouldRefuseTheLaterOfACollectiveAndAnUpdateTopology() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(2)) {
            final Communicator a = cluster.peers().get(0);
            final Communicator b = cluster.peers().get(1);
            final int[] va = {1, 2, 3};
            final int[] vb = {10, 20, 30};
            final ReduceDescriptor d = ReduceDescriptor.of(3, DataType.INT32, ReduceOp.SUM).tag(5);
            final long t0 = System.nanoTime();
            final CompletableFuture<ReduceInfo> collective = a.allReduceAsync(va, va, d);
            final CompletableFuture<Void> update = CompletableFuture.runAsync(b::updateTopology, cluster.pool());
            final Object first = CompletableFuture.anyOf(collective.handle((r, e) -> e),
                    update.handle((r, e) -> e)).get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
            assertRefused(first, t0);
            if (update.isCompletedExceptionally()) {
                // the collective vote came first: b joins it
                b.allReduce(vb, vb, d);
                collective.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
                assertArrayEquals(new int[] {11, 22, 33}, va);
                assertArrayEquals(new int[] {11, 22, 33}, vb);
            } else {
                // the update vote came first: a joins it, then both run the collective
                assertTrue(collective.isCompletedExceptionally());
                a.updateTopology();
                update.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
                final CompletableFuture<ReduceInfo> again = a.allReduceAsync(va, va, d);
                b.allReduce(vb, vb, d);
                again.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
                assertArrayEquals(new int[] {11, 22, 33}, va);
                assertArrayEquals(new int[] {11, 22, 33}, vb);
            }
        }
    }

    @Test
    void shouldRefuseTheLaterOfACollectiveAndAPendingQuery() throws Exception {
        try (AllReduceCluster cluster = AllReduceCluster.start(2)) {
            final Communicator a = cluster.peers().get(0);
            final Communicator b = cluster.peers().get(1);
            final long[] va = {7};
            final long[] vb = {8};
            final ReduceDescriptor d = ReduceDescriptor.of(1, DataType.INT64, ReduceOp.MAX).tag(9);
            final long t0 = System.nanoTime();
            final CompletableFuture<ReduceInfo> collective = a.allReduceAsync(va, va, d);
            final CompletableFuture<Boolean> query = CompletableFuture.supplyAsync(b::arePeersPending, cluster.pool());
            final Object first = CompletableFuture.anyOf(collective.handle((r, e) -> e),
                    query.handle((r, e) -> e)).get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
            assertRefused(first, t0);
            if (query.isCompletedExceptionally()) {
                b.allReduce(vb, vb, d);
                collective.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
            } else {
                assertTrue(collective.isCompletedExceptionally());
                assertFalse(a.arePeersPending());
                assertFalse(query.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS));
                final CompletableFuture<ReduceInfo> again = a.allReduceAsync(va, va, d);
                b.allReduce(vb, vb, d);
                again.get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
            }
            assertEquals(8, va[0]);
            assertEquals(8, vb[0]);
        }
    }

    /** The first call to finish must have been refused quickly with FAILED_PRECONDITION by the master. */
    private static void assertRefused(final Object failure, final long t0) {
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertTrue(failure instanceof Throwable, "the first call to finish succeeded: " + failure);
        Throwable cause = (Throwable) failure;
        while (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        assertTrue(cause instanceof PcclException, "unexpected failure " + cause);
        final PcclException refused = (PcclException) cause;
        assertEquals(PcclException.Code.FAILED_PRECONDITION, refused.code(), refused.toString());
        assertTrue(refused.getMessage().contains("refused") || refused.getMessage().contains("voting on"),
                refused.getMessage());
        assertTrue(tookMs < QUICK_MS, "refusal took " + tookMs + " ms, not well under the " + QUICK_MS + " ms bound");
    }
}
