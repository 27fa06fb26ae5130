package io.pccl;

import io.pccl.ring.RingTestAccess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.File;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Peers dying in the middle of an all-reduce, with a real master: a peer process SIGKILLed mid-operation (W = 3, 4),
 * an in-JVM peer closed abruptly mid-operation, and the retry helper losing a peer mid-batch. Every survivor's
 * operation must fail within 1 s with its in-place input intact, and the retry on the survivors must give their
 * exact result.
 */
@Tag("slow")
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AllReduceFaultTest {
    private static final long SEED = 4242L;
    private static final long FAIL_WITHIN_NS = TimeUnit.SECONDS.toNanos(1);

    private static String classpath() {
        final String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isEmpty() ? surefire : System.getProperty("java.class.path");
    }

    /** Polls {@code condition} (bounded); a check of progress counters, not a synchronization by sleeping. */
    private static void awaitUntil(final BooleanSupplier condition, final String what) {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting until " + what);
            }
            LockSupport.parkNanos(100_000);
        }
    }

    private static long rx(final List<Communicator> peers) {
        long sum = 0;
        for (Communicator c : peers) {
            sum += c.inFlightRxBytes();
        }
        return sum;
    }

    /** Launches an in-place op on {@code peers}; each future records when it completed. */
    private static List<CompletableFuture<Long>> launch(final List<Communicator> peers, final ByteBuffer[] in,
                                                        final ReduceDescriptor d) {
        final List<CompletableFuture<Long>> done = new ArrayList<>();
        for (int r = 0; r < peers.size(); r++) {
            done.add(peers.get(r).allReduceAsync(in[r], in[r], d).handle((info, e) -> {
                if (e == null) {
                    throw new AssertionError("operation succeeded although a peer died: " + info);
                }
                assertInstanceOf(PeerLostException.class, e.getCause() != null ? e.getCause() : e);
                return System.nanoTime();
            }));
        }
        return done;
    }

    /** Every survivor failed within 1 s of {@code killedAt}, input intact; then update and retry exactly. */
    private static void assertFailedThenRetry(final AllReduceCluster cluster, final List<Communicator> survivors,
                                              final ByteBuffer[] in, final ByteBuffer[] originals,
                                              final List<CompletableFuture<Long>> failed, final long killedAt,
                                              final ReduceDescriptor d) throws Exception {
        assertFailedThenRetry(cluster, survivors, in, originals, failed, killedAt, FAIL_WITHIN_NS, d);
    }

    private static void assertFailedThenRetry(final AllReduceCluster cluster, final List<Communicator> survivors,
                                              final ByteBuffer[] in, final ByteBuffer[] originals,
                                              final List<CompletableFuture<Long>> failed, final long killedAt,
                                              final long withinNs, final ReduceDescriptor d) throws Exception {
        for (int r = 0; r < survivors.size(); r++) {
            final long at = failed.get(r).get(10, TimeUnit.SECONDS);
            final long ms = TimeUnit.NANOSECONDS.toMillis(at - killedAt);
            System.out.println("survivor rank " + r + " failed " + ms + " ms after the fault");
            assertTrue(at - killedAt < withinNs, "rank " + r + " failed only after " + ms + " ms");
            assertEquals(originals[r], in[r].duplicate().clear(), "in-place input of rank " + r + " not restored");
        }
        cluster.updateTopology(survivors);
        final List<Long> ring = survivors.get(0).ring();
        assertEquals(survivors.size(), ring.size(), "ring after the update: " + ring);
        for (int r = 0; r < survivors.size(); r++) {
            assertEquals(ring.get(r), survivors.get(r).peerId(), "survivor order = ring order");
        }
        final ByteBuffer expected = RingTestAccess.expected(d.dataType(), d.op(), originals, d.count());
        final List<Future<ReduceInfo>> retry = new ArrayList<>();
        for (int r = 0; r < survivors.size(); r++) {
            final Communicator c = survivors.get(r);
            final ByteBuffer b = in[r];
            retry.add(cluster.pool().submit(() -> c.allReduce(b, b, d)));
        }
        for (int r = 0; r < survivors.size(); r++) {
            assertEquals(survivors.size(), retry.get(r).get(60, TimeUnit.SECONDS).worldSize());
            assertTrue(expected.equals(in[r]), "retry result of rank " + r + " differs from the survivors' reference");
        }
    }

    @ParameterizedTest(name = "W={0}")
    @ValueSource(ints = {3, 4})
    void peerProcessKilledMidOperationFailsEverySurvivorWithinOneSecond(final int w) throws Exception {
        System.out.println("seed " + SEED + ", W " + w);
        final int count = 16 << 20; // 64 MiB of float32
        try (AllReduceCluster cluster = AllReduceCluster.start(w - 1);
             ChildProcess child = new ChildProcess("victim", List.of(System.getProperty("java.home") + "/bin/java",
                     "-Xmx512m", "-cp", classpath(), AllReducePeerMain.class.getName(), cluster.masterAddress(),
                     AllReduceCluster.LOOPBACK), new File("target", "allreduce-victim-" + w + ".log"))) {
            child.await("READY"::equals, 30_000, "READY");
            child.send("connect");
            cluster.admit(w);
            child.await(l -> l.startsWith("OK connect"), 30_000, "connect");
            final List<Communicator> survivors = cluster.peers();
            final ByteBuffer[] in = RingTestAccess.inputs(DataType.FLOAT32, count, w - 1, SEED + w);
            final ByteBuffer[] originals = new ByteBuffer[w - 1];
            for (int r = 0; r < w - 1; r++) {
                originals[r] = RingTestAccess.copyOf(in[r]);
            }
            final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM).tag(1);
            child.send("reduce 1 " + count);
            final List<CompletableFuture<Long>> failed = launch(survivors, in, d);
            awaitUntil(() -> rx(survivors) > 0, "data flows");
            final long killedAt = System.nanoTime();
            child.close();
            assertFailedThenRetry(cluster, survivors, in, originals, failed, killedAt, d);
        }
    }

    /**
     * A peer process frozen with SIGSTOP keeps its connections open: the survivors' engines fail after the 500 ms
     * progress timeout, and the master's {@code Done} follows once it dropped the silent peer (heartbeat timeout
     * 3 s), far below the 30 s default progress timeout that would apply without the builder option.
     */
    @Test
    void frozenPeerProcessFailsTheSurvivorsAfterTheProgressTimeout() throws Exception {
        final int w = 3;
        final int count = 8 << 20;
        try (AllReduceCluster cluster = AllReduceCluster.start(w - 1,
                b -> b.progressTimeout(Duration.ofMillis(500)));
             ChildProcess child = new ChildProcess("frozen", List.of(System.getProperty("java.home") + "/bin/java",
                     "-Xmx512m", "-cp", classpath(), AllReducePeerMain.class.getName(), cluster.masterAddress(),
                     AllReduceCluster.LOOPBACK), new File("target", "allreduce-frozen.log"))) {
            child.await("READY"::equals, 30_000, "READY");
            child.send("connect");
            cluster.admit(w);
            child.await(l -> l.startsWith("OK connect"), 30_000, "connect");
            final List<Communicator> survivors = cluster.peers();
            final ByteBuffer[] in = RingTestAccess.inputs(DataType.FLOAT32, count, w - 1, SEED);
            final ByteBuffer[] originals = {RingTestAccess.copyOf(in[0]), RingTestAccess.copyOf(in[1])};
            final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.SUM).tag(3);
            child.send("reduce 3 " + count);
            final List<CompletableFuture<Long>> failed = launch(survivors, in, d);
            awaitUntil(() -> rx(survivors) > 0, "data flows");
            final long stoppedAt = System.nanoTime();
            assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(child.pid())).start()
                    .waitFor(), "kill -STOP");
            assertFailedThenRetry(cluster, survivors, in, originals, failed, stoppedAt,
                    TimeUnit.SECONDS.toNanos(6), d);
        }
    }

    @Test
    void abruptCloseOfAPeerMidOperationFailsTheSurvivorsWithinOneSecond() throws Exception {
        final int count = 8 << 20;
        try (AllReduceCluster cluster = AllReduceCluster.start(3)) {
            final List<Communicator> all = cluster.peers();
            final Communicator victim = all.get(1);
            final List<Communicator> survivors = List.of(all.get(0), all.get(2));
            final ByteBuffer[] in = RingTestAccess.inputs(DataType.INT32, count, 3, SEED);
            final ByteBuffer[] originals = {RingTestAccess.copyOf(in[0]), RingTestAccess.copyOf(in[2])};
            final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.INT32, ReduceOp.SUM).tag(5);
            final CompletableFuture<ReduceInfo> victimOp = victim.allReduceAsync(in[1], in[1], d);
            final ByteBuffer[] survivorIn = {in[0], in[2]};
            final List<CompletableFuture<Long>> failed = launch(survivors, survivorIn, d);
            awaitUntil(() -> rx(survivors) > 0, "data flows");
            final long killedAt = System.nanoTime();
            victim.close();
            final ExecutionException closed = assertThrows(ExecutionException.class,
                    () -> victimOp.get(10, TimeUnit.SECONDS));
            assertEquals(PcclException.Code.CLOSED, ((PcclException) closed.getCause()).code());
            assertFailedThenRetry(cluster, survivors, survivorIn, originals, failed, killedAt, d);
        }
    }

    @Test
    void retryHelperWithOneInFlightCompletesEveryOperationAfterAPeerIsLostMidBatch() throws Exception {
        final int small = 1 << 18;
        final int large = 4 << 20;
        final int[] counts = {small, small, large, large, small};
        try (AllReduceCluster cluster = AllReduceCluster.start(3)) {
            final List<Communicator> all = cluster.peers();
            final Communicator victim = all.get(2);
            final List<Communicator> survivors = List.of(all.get(0), all.get(1));
            final List<ByteBuffer[]> in = new ArrayList<>();
            final List<ByteBuffer> ref3 = new ArrayList<>();
            final List<ByteBuffer> ref2 = new ArrayList<>();
            final List<ReduceDescriptor> ds = new ArrayList<>();
            for (int k = 0; k < counts.length; k++) {
                final ByteBuffer[] ops = RingTestAccess.inputs(DataType.INT32, counts[k], 3, SEED + 10 + k);
                in.add(ops);
                ref3.add(RingTestAccess.expected(DataType.INT32, ReduceOp.SUM, ops, counts[k]));
                ref2.add(RingTestAccess.expected(DataType.INT32, ReduceOp.SUM, new ByteBuffer[] {ops[0], ops[1]},
                        counts[k]));
                ds.add(ReduceDescriptor.of(counts[k], DataType.INT32, ReduceOp.SUM).tag(40 + k));
            }
            final List<Future<ReduceInfo>> runs = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                final List<ReduceOperation> batch = new ArrayList<>();
                for (int k = 0; k < counts.length; k++) {
                    batch.add(new ReduceOperation(in.get(k)[r], in.get(k)[r], ds.get(k)));
                }
                final Communicator c = survivors.get(r);
                runs.add(cluster.pool().submit(() -> c.allReduceMultipleWithRetry(batch, 1)));
            }
            // The victim takes part in the first two operations, then dies while the third is transferring.
            victim.allReduce(in.get(0)[2], in.get(0)[2], ds.get(0));
            victim.allReduce(in.get(1)[2], in.get(1)[2], ds.get(1));
            victim.allReduceAsync(in.get(2)[2], in.get(2)[2], ds.get(2));
            awaitUntil(() -> victim.inFlightRxBytes() > 0, "the third operation transfers");
            victim.close();
            for (Future<ReduceInfo> run : runs) {
                final ReduceInfo info = run.get(90, TimeUnit.SECONDS);
                assertEquals(2, info.worldSize(), "smallest world size of the batch");
            }
            for (Communicator c : survivors) {
                // One launch at a time: each failed attempt is one failed operation and one re-establishment.
                final CommunicatorStats s = c.stats();
                assertEquals(counts.length, s.allReducesSucceeded(), s::toString);
                assertTrue(s.allReduceRetryRounds() >= 1, s::toString);
                assertEquals(s.allReduceRetryRounds(), s.allReducesFailed(), s::toString);
            }
            for (int r = 0; r < 2; r++) {
                for (int k = 0; k < counts.length; k++) {
                    final ByteBuffer want = k < 2 ? ref3.get(k) : ref2.get(k);
                    assertTrue(want.equals(in.get(k)[r]), "operation " + k + " of rank " + r + " should hold the "
                            + (k < 2 ? "3" : "2") + "-peer result");
                }
            }
        }
    }
}
