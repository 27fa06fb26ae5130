package io.pccl;

import io.pccl.ring.RingAllReduce;
import io.pccl.ring.RingTestAccess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Concurrent all-reduces and the API's validation on one 3-peer cluster with a real master: many operations in
 * flight with distinct tags from one and from several threads, duplicate running tags, tag reuse, parameter
 * mismatch, membership calls while operations run, buffer checks and the primitive-array overloads.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AllReduceConcurrencyTest {
    private static final long SEED = 77L;
    private static final int W = 3;
    private static AllReduceCluster cluster;
    private static List<Communicator> peers;

    @BeforeAll
    static void start() throws Exception {
        System.out.println("seed " + SEED);
        cluster = AllReduceCluster.start(W);
        peers = cluster.peers();
    }

    @AfterAll
    static void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** INT64 operands of every peer, filled from the seed. */
    private static ByteBuffer[] inputs(final int count, final long seed) {
        final Random random = new Random(seed);
        final ByteBuffer[] in = new ByteBuffer[W];
        for (int r = 0; r < W; r++) {
            in[r] = (r % 2 == 0 ? ByteBuffer.allocateDirect(count * 8) : ByteBuffer.allocate(count * 8))
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
                in[r].putLong(i * 8, random.nextLong());
            }
        }
        return in;
    }

    private static long[] sum(final ByteBuffer[] in, final int count) {
        final long[] s = new long[count];
        for (ByteBuffer b : in) {
            for (int i = 0; i < count; i++) {
                s[i] += b.getLong(i * 8);
            }
        }
        return s;
    }

    private static void assertSum(final long[] expected, final ByteBuffer b, final String what) {
        for (int i = 0; i < expected.length; i++) {
            if (expected[i] != b.getLong(i * 8)) {
                assertEquals(expected[i], b.getLong(i * 8), what + " element " + i);
            }
        }
    }

    /** n operations, in place, launched on every peer from this thread; exact results. */
    private static void inFlightFromOneThread(final int n, final long tagBase) throws Exception {
        final List<ByteBuffer[]> in = new ArrayList<>();
        final List<long[]> expected = new ArrayList<>();
        final List<CompletableFuture<ReduceInfo>> futures = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            final int count = 20_000 + 37 * k;
            in.add(inputs(count, SEED + tagBase + k));
            expected.add(sum(in.get(k), count));
        }
        for (int r = 0; r < W; r++) {
            for (int k = 0; k < n; k++) {
                final ReduceDescriptor d = ReduceDescriptor.of(20_000 + 37 * k, DataType.INT64, ReduceOp.SUM)
                        .tag(tagBase + k);
                futures.add(peers.get(r).allReduceAsync(in.get(k)[r], in.get(k)[r], d));
            }
        }
        for (int r = 0; r < W; r++) {
            for (int k = 0; k < n; k++) {
                assertEquals(W, futures.get(r * n + k).get(30, TimeUnit.SECONDS).worldSize());
                assertSum(expected.get(k), in.get(k)[r], "op " + k + " rank " + r);
            }
        }
    }

    @Test
    void twoAndSixteenOperationsInFlightFromOneThread() throws Exception {
        inFlightFromOneThread(2, 100);
        inFlightFromOneThread(16, 200);
    }

    @Test
    void sixteenOperationsInFlightFromSeveralThreadsPerPeer() throws Exception {
        final int n = 16;
        final int threadsPerPeer = 4;
        final List<ByteBuffer[]> in = new ArrayList<>();
        final List<long[]> expected = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            in.add(inputs(10_000 + k, SEED + 300 + k));
            expected.add(sum(in.get(k), 10_000 + k));
        }
        final CountDownLatch go = new CountDownLatch(1);
        final List<Future<?>> workers = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            for (int t = 0; t < threadsPerPeer; t++) {
                final int rank = r;
                final int first = t;
                workers.add(cluster.pool().submit(() -> {
                    go.await();
                    final List<CompletableFuture<ReduceInfo>> mine = new ArrayList<>();
                    for (int k = first; k < n; k += threadsPerPeer) {
                        final ReduceDescriptor d = ReduceDescriptor.of(10_000 + k, DataType.INT64, ReduceOp.SUM)
                                .tag(300 + k);
                        final ByteBuffer out = ByteBuffer.allocate((10_000 + k) * 8)
                                .order(ByteOrder.LITTLE_ENDIAN);
                        final long[] want = expected.get(k);
                        mine.add(peers.get(rank).allReduceAsync(in.get(k)[rank], out, d)
                                .thenApply(info -> {
                                    assertSum(want, out, "tag " + d.tag() + " rank " + rank);
                                    return info;
                                }));
                    }
                    for (CompletableFuture<ReduceInfo> f : mine) {
                        f.get(30, TimeUnit.SECONDS);
                    }
                    return null;
                }));
            }
        }
        go.countDown();
        for (Future<?> f : workers) {
            f.get(40, TimeUnit.SECONDS);
        }
    }

    @Test
    void duplicateRunningTagIsRejectedOnEveryPeerAndTheFirstStillSucceedsThenTheTagIsReusable() throws Exception {
        final int count = 2_000_000;
        final ByteBuffer[] in = inputs(count, SEED + 7);
        final long[] expected = sum(in, count);
        final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.INT64, ReduceOp.SUM).tag(7);
        final List<CompletableFuture<ReduceInfo>> first = new ArrayList<>();
        final List<String> completedOn = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            final ByteBuffer out = ByteBuffer.allocateDirect(count * 8).order(ByteOrder.LITTLE_ENDIAN);
            first.add(peers.get(r).allReduceAsync(in[r], out, d).thenApply(info -> {
                synchronized (completedOn) {
                    completedOn.add(Thread.currentThread().getName());
                }
                assertSum(expected, out, "first tag 7");
                return info;
            }));
            final int rank = r;
            final PcclException dup = assertThrows(PcclException.class,
                    () -> peers.get(rank).allReduceAsync(in[rank], ByteBuffer.allocate(count * 8), d));
            assertEquals(PcclException.Code.INVALID_ARGUMENT, dup.code());
            assertTrue(dup.getMessage().contains("tag 7"), dup.getMessage());
        }
        for (CompletableFuture<ReduceInfo> f : first) {
            assertEquals(W, f.get(30, TimeUnit.SECONDS).worldSize());
        }
        for (String thread : completedOn) {
            assertFalse(thread.startsWith("pccl-peer"), "future completed on event loop " + thread);
        }
        final List<CompletableFuture<ReduceInfo>> again = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            again.add(peers.get(r).allReduceAsync(in[r], in[r], d));
        }
        for (int r = 0; r < W; r++) {
            again.get(r).get(30, TimeUnit.SECONDS);
            assertSum(expected, in[r], "reused tag 7 rank " + r);
        }
    }

    @Test
    void mismatchedParametersFailEveryPeerWithTheMastersReasonAndKeepTheInput() throws Exception {
        final ByteBuffer[] in = inputs(1000, SEED + 9);
        final ByteBuffer[] copies = new ByteBuffer[W];
        final List<CompletableFuture<ReduceInfo>> futures = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            copies[r] = ByteBuffer.allocate(8000).put(in[r].duplicate()).flip();
            final ReduceOp op = r == 0 ? ReduceOp.SUM : ReduceOp.MAX;
            futures.add(peers.get(r).allReduceAsync(in[r], in[r],
                    ReduceDescriptor.of(1000, DataType.INT64, op).tag(9)));
        }
        for (int r = 0; r < W; r++) {
            final CompletableFuture<ReduceInfo> f = futures.get(r);
            final Exception e = assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
            final PcclException p = (PcclException) e.getCause();
            assertEquals(PcclException.Code.INVALID_ARGUMENT, p.code(), p.getMessage());
            assertTrue(p.getMessage().contains("mismatch"), p.getMessage());
            assertEquals(copies[r], in[r].duplicate().clear(), "input of rank " + r);
        }
    }

    @Test
    void quantizedOperationsMatchTheModelOnEveryPeerAndAWireTypeMismatchFailsThemAll() throws Exception {
        // Chunks of ~1.3 MB: two 1 MiB slices each, so every hop quantizes more than one range per chunk.
        final int count = 1_000_003;
        final ByteBuffer[] in = RingTestAccess.quantizedInputs(DataType.FLOAT32, count, W, -1, 1, SEED + 21);
        final ByteBuffer expected = RingTestAccess.quantizedExpected(DataType.FLOAT32, DataType.UINT8, ReduceOp.AVG,
                in, count, RingAllReduce.DEFAULT_SLICE_BYTES);
        final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.FLOAT32, ReduceOp.AVG).tag(31)
                .quantization(Quantization.MIN_MAX, DataType.UINT8);
        final float[][] send = new float[W][count];
        final float[][] recv = new float[W][count];
        final List<CompletableFuture<ReduceInfo>> futures = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            in[r].duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(send[r]);
            futures.add(peers.get(r).allReduceAsync(send[r], recv[r], d));
        }
        final float[] model = new float[count];
        expected.asFloatBuffer().get(model);
        for (int r = 0; r < W; r++) {
            final ReduceInfo info = futures.get(r).get(30, TimeUnit.SECONDS);
            // Four steps of a third of the operand each, one byte a value: about 4/3 of count, not 16/3 of it.
            assertTrue(info.txBytes() < 4L * (count / W + 1) + 4 * 2 * 8, "bytes sent by rank " + r + ": "
                    + info.txBytes());
            assertArrayEquals(model, recv[r], "rank " + r + " differs from the quantized ring model");
        }
        // The master compares the wire type too: one peer asking for UINT16 fails the operation everywhere.
        final List<CompletableFuture<ReduceInfo>> mismatched = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            mismatched.add(peers.get(r).allReduceAsync(send[r], recv[r], r == 1
                    ? d.tag(32).quantization(Quantization.MIN_MAX, DataType.UINT16) : d.tag(32)));
        }
        for (int r = 0; r < W; r++) {
            final CompletableFuture<ReduceInfo> f = mismatched.get(r);
            final Exception e = assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
            final PcclException p = (PcclException) e.getCause();
            assertEquals(PcclException.Code.INVALID_ARGUMENT, p.code(), p.getMessage());
            assertTrue(p.getMessage().contains("UINT16") && p.getMessage().contains("UINT8"), p.getMessage());
        }
    }

    @Test
    void blockingCallsGiveExactResultsAndAMismatchKeepsTheInPlaceInput() throws Exception {
        // The blocking calls' private futures complete where the outcome is learnt (no collective thread), except
        // for a failure that restores an in-place input.
        for (final int count : new int[] {2, 1000}) {
            final ByteBuffer[] in = inputs(count, SEED + count);
            final long[] expected = sum(in, count);
            final ReduceDescriptor d = ReduceDescriptor.of(count, DataType.INT64, ReduceOp.SUM).tag(13);
            final List<Future<ReduceInfo>> calls = new ArrayList<>();
            for (int r = 0; r < W; r++) {
                final int rank = r;
                calls.add(cluster.pool().submit(() -> peers.get(rank).allReduce(in[rank], in[rank], d)));
            }
            for (int r = 0; r < W; r++) {
                assertEquals(W, calls.get(r).get(30, TimeUnit.SECONDS).worldSize());
                assertSum(expected, in[r], count + " elements, rank " + r);
            }
            final long[][] arrays = new long[W][];
            final List<Future<ReduceInfo>> arrayCalls = new ArrayList<>();
            for (int r = 0; r < W; r++) {
                final int rank = r;
                arrays[r] = new long[count];
                in[r].asLongBuffer().get(arrays[r]);
                arrayCalls.add(cluster.pool().submit(() -> peers.get(rank).allReduce(arrays[rank], arrays[rank],
                        ReduceDescriptor.of(count, DataType.INT64, ReduceOp.MIN).tag(14))));
            }
            for (int r = 0; r < W; r++) {
                arrayCalls.get(r).get(30, TimeUnit.SECONDS);
                for (int i = 0; i < count; i++) {
                    assertEquals(expected[i], arrays[r][i], "long[] MIN of equal inputs, rank " + r);
                }
            }
        }
        final ByteBuffer[] in = inputs(1000, SEED + 13);
        final List<Future<ReduceInfo>> calls = new ArrayList<>();
        final ByteBuffer[] copies = new ByteBuffer[W];
        for (int r = 0; r < W; r++) {
            copies[r] = ByteBuffer.allocate(8000).put(in[r].duplicate()).flip();
            final int rank = r;
            final ReduceOp op = r == 0 ? ReduceOp.SUM : ReduceOp.MAX;
            calls.add(cluster.pool().submit(() -> peers.get(rank).allReduce(in[rank], in[rank],
                    ReduceDescriptor.of(1000, DataType.INT64, op).tag(15))));
        }
        for (int r = 0; r < W; r++) {
            final Future<ReduceInfo> f = calls.get(r);
            final Exception e = assertThrows(Exception.class, () -> f.get(30, TimeUnit.SECONDS));
            final PcclException p = (PcclException) e.getCause();
            assertEquals(PcclException.Code.INVALID_ARGUMENT, p.code(), p.getMessage());
            assertEquals(copies[r], in[r].duplicate().clear(), "input of rank " + r);
        }
    }

    @Test
    void membershipCallsAreRejectedWhileAnOperationIsInFlight() throws Exception {
        final ByteBuffer[] in = inputs(1000, SEED + 11);
        final long[] expected = sum(in, 1000);
        final ReduceDescriptor d = ReduceDescriptor.of(1000, DataType.INT64, ReduceOp.SUM).tag(11);
        final CompletableFuture<ReduceInfo> lone = peers.get(0).allReduceAsync(in[0], in[0], d);
        final PcclException update = assertThrows(PcclException.class, () -> peers.get(0).updateTopology());
        assertEquals(PcclException.Code.FAILED_PRECONDITION, update.code());
        assertTrue(update.getMessage().contains("[11]"), update.getMessage());
        final PcclException pending = assertThrows(PcclException.class, () -> peers.get(0).arePeersPending());
        assertEquals(PcclException.Code.FAILED_PRECONDITION, pending.code());
        final List<CompletableFuture<ReduceInfo>> all = new ArrayList<>(List.of(lone));
        for (int r = 1; r < W; r++) {
            all.add(peers.get(r).allReduceAsync(in[r], in[r], d));
        }
        for (int r = 0; r < W; r++) {
            all.get(r).get(30, TimeUnit.SECONDS);
            assertSum(expected, in[r], "rank " + r);
        }
    }

    @Test
    void invalidBuffersAndDescriptorsAreRejectedWithTheirValues() {
        final Communicator c = peers.get(0);
        final ReduceDescriptor d = ReduceDescriptor.of(100, DataType.FLOAT32, ReduceOp.SUM).tag(13);
        final PcclException small = assertThrows(PcclException.class,
                () -> c.allReduce(ByteBuffer.allocate(399), ByteBuffer.allocate(400), d));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, small.code());
        for (String part : new String[] {"count 100", "FLOAT32", "4 bytes each", "400 bytes", "capacity 399"}) {
            assertTrue(small.getMessage().contains(part), small.getMessage());
        }
        final PcclException readOnly = assertThrows(PcclException.class,
                () -> c.allReduce(ByteBuffer.allocate(400), ByteBuffer.allocate(400).asReadOnlyBuffer(), d));
        assertTrue(readOnly.getMessage().contains("read-only"), readOnly.getMessage());
        final PcclException wrongArray = assertThrows(PcclException.class,
                () -> c.allReduce(new int[100], new int[100], d));
        assertTrue(wrongArray.getMessage().contains("FLOAT32"), wrongArray.getMessage());
        final PcclException shortArray = assertThrows(PcclException.class,
                () -> c.allReduce(new float[99], new float[100], d));
        assertTrue(shortArray.getMessage().contains("count 100"), shortArray.getMessage());
        final PcclException zeroPoint = assertThrows(PcclException.class, () -> c.allReduce(
                ByteBuffer.allocate(400), ByteBuffer.allocate(400), ReduceDescriptor.of(100, DataType.FLOAT32,
                        ReduceOp.MAX).quantization(Quantization.ZERO_POINT_SCALE, DataType.UINT8)));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, zeroPoint.code());
        assertTrue(zeroPoint.getMessage().contains("MAX"), zeroPoint.getMessage());
        final PcclException signedWire = assertThrows(PcclException.class, () -> c.allReduce(
                ByteBuffer.allocate(400), ByteBuffer.allocate(400), d.quantization(Quantization.MIN_MAX,
                        DataType.INT8)));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, signedWire.code());
        assertTrue(signedWire.getMessage().contains("INT8"), signedWire.getMessage());
        final PcclException integerSource = assertThrows(PcclException.class, () -> c.allReduce(
                new int[100], new int[100], ReduceDescriptor.of(100, DataType.INT32, ReduceOp.SUM)
                        .quantization(Quantization.MIN_MAX, DataType.UINT8)));
        assertEquals(PcclException.Code.INVALID_ARGUMENT, integerSource.code());
        assertTrue(integerSource.getMessage().contains("INT32"), integerSource.getMessage());
        assertThrows(PcclException.class, () -> c.allReduceMultipleWithRetry(List.of(), 0));
    }

    @Test
    void primitiveArrayOverloadsInPlaceAndOutOfPlace() throws Exception {
        final int n = 1001;
        final List<Future<Object>> results = new ArrayList<>();
        for (int r = 0; r < W; r++) {
            final Communicator c = peers.get(r);
            final int rank = r;
            results.add(cluster.pool().submit(() -> {
                final float[] f = new float[n];
                final double[] dd = new double[n];
                final int[] ii = new int[n];
                final long[] ll = new long[n];
                final short[] ss = new short[n];
                final byte[] bb = new byte[n];
                for (int i = 0; i < n; i++) {
                    f[i] = i + rank;
                    dd[i] = i * 0.5 + rank;
                    ii[i] = i * 1000 + rank;
                    ll[i] = (long) i << 33 | rank;
                    ss[i] = (short) (i + rank);
                    bb[i] = (byte) (i + rank);
                }
                final float[] fOut = new float[n + 5];
                c.allReduce(f, fOut, ReduceDescriptor.of(n, DataType.FLOAT32, ReduceOp.SUM).tag(20));
                c.allReduce(dd, dd, ReduceDescriptor.of(n, DataType.FLOAT64, ReduceOp.MAX).tag(21));
                c.allReduceAsync(ii, ii, ReduceDescriptor.of(n, DataType.INT32, ReduceOp.SUM).tag(22))
                        .get(30, TimeUnit.SECONDS);
                c.allReduce(ll, ll, ReduceDescriptor.of(n, DataType.UINT64, ReduceOp.MIN).tag(23));
                c.allReduce(ss, ss, ReduceDescriptor.of(n, DataType.INT16, ReduceOp.SUM).tag(24));
                final byte[] bOut = new byte[n];
                c.allReduce(bb, bOut, ReduceDescriptor.of(n, DataType.UINT8, ReduceOp.MAX).tag(25));
                for (int i = 0; i < n; i++) {
                    assertEquals(3 * i + 3, fOut[i], "float " + i);
                    assertEquals(i * 0.5 + W - 1, dd[i], "double " + i);
                    assertEquals(3 * i * 1000 + 3, ii[i], "int " + i);
                    assertEquals((long) i << 33, ll[i], "long " + i);
                    assertEquals((short) (3 * i + 3), ss[i], "short " + i);
                    final int maxByte = Math.max(i & 0xff, Math.max((i + 1) & 0xff, (i + 2) & 0xff));
                    assertEquals(maxByte, bOut[i] & 0xff, "byte " + i);
                }
                assertArrayEquals(new float[5], Arrays.copyOfRange(fOut, n, n + 5));
                return null;
            }));
        }
        for (Future<Object> f : results) {
            f.get(40, TimeUnit.SECONDS);
        }
    }
}
