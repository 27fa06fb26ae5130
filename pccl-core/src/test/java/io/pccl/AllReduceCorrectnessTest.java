package io.pccl;

import io.pccl.ring.RingTestAccess;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End-to-end all-reduce over TCP with a real master: every data type x reduce op x count in {0, 1, W-1, 1025,
 * 203530} on one cluster per world size, against the scalar reference folded in ring order (exact for every type,
 * which implies bit identity across peers), and float32 SUM/AVG/PROD within 1e-5 of a float64 reference. The five
 * counts of a (type, op) run concurrently with distinct tags; in-place and out-of-place, heap and direct buffers
 * alternate.
 */
@Tag("slow")
@Timeout(value = 300, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class AllReduceCorrectnessTest {
    private static final long SEED = 20261128L;

    @ParameterizedTest(name = "W={0}")
    @ValueSource(ints = {2, 3, 4})
    void everyTypeOpAndCountMatchesTheRingOrderReference(final int w) throws Exception {
        System.out.println("seed " + SEED + ", W " + w);
        final long[] counts = {0, 1, w - 1, 1025, 203530};
        final long start = System.nanoTime();
        int ops = 0;
        try (AllReduceCluster cluster = AllReduceCluster.start(w)) {
            final List<Communicator> peers = cluster.peers();
            long tag = 0;
            for (DataType type : DataType.values()) {
                for (ReduceOp op : ReduceOp.values()) {
                    final List<Case> cases = new ArrayList<>();
                    for (int k = 0; k < counts.length; k++) {
                        final long seed = SEED + 1000L * type.ordinal() + 100L * op.ordinal() + k;
                        cases.add(new Case(type, op, counts[k], w, tag++, seed, k % 2 == 0));
                    }
                    for (Case c : cases) {
                        c.launch(peers);
                    }
                    for (Case c : cases) {
                        c.check();
                        ops++;
                    }
                }
            }
        }
        System.out.printf("W %d: %d all-reduces in %.1f s%n", w, ops, (System.nanoTime() - start) / 1e9);
    }

    /** One operation on every peer. */
    private static final class Case {
        final DataType type;
        final ReduceOp op;
        final long count;
        final long tag;
        final boolean inPlace;
        final ByteBuffer[] inputs;
        final ByteBuffer[] originals;
        final ByteBuffer[] outputs;
        final ByteBuffer expected;
        final List<CompletableFuture<ReduceInfo>> futures = new ArrayList<>();

        Case(final DataType type, final ReduceOp op, final long count, final int w, final long tag, final long seed,
             final boolean inPlace) {
            this.type = type;
            this.op = op;
            this.count = count;
            this.tag = tag;
            this.inPlace = inPlace;
            this.inputs = RingTestAccess.inputs(type, count, w, seed);
            this.originals = new ByteBuffer[w];
            this.outputs = new ByteBuffer[w];
            for (int r = 0; r < w; r++) {
                originals[r] = RingTestAccess.copyOf(inputs[r]);
                final int bytes = (int) (count * type.sizeBytes());
                outputs[r] = inPlace ? inputs[r] : (r % 2 == 0 ? ByteBuffer.allocate(bytes)
                        : ByteBuffer.allocateDirect(bytes)).order(ByteOrder.LITTLE_ENDIAN);
            }
            this.expected = RingTestAccess.expected(type, op, originals, count);
        }

        void launch(final List<Communicator> peers) {
            final ReduceDescriptor d = ReduceDescriptor.of(count, type, op).tag(tag);
            for (int r = 0; r < peers.size(); r++) {
                futures.add(peers.get(r).allReduceAsync(inputs[r], outputs[r], d));
            }
        }

        void check() throws Exception {
            final String what = type + " " + op + " count " + count + (inPlace ? " in place" : " out of place");
            for (int r = 0; r < futures.size(); r++) {
                final ReduceInfo info = futures.get(r).get(AllReduceCluster.BOUND_S, TimeUnit.SECONDS);
                assertEquals(futures.size(), info.worldSize(), what);
                if (!outputs[r].equals(expected)) {
                    fail(what + ": rank " + r + " differs from the ring-order reference at element "
                            + firstDifference(outputs[r], expected));
                }
                if (!inPlace) {
                    assertEquals(originals[r], inputs[r], what + ": send buffer of rank " + r + " was modified");
                }
            }
            if (type == DataType.FLOAT32 && (op == ReduceOp.SUM || op == ReduceOp.AVG || op == ReduceOp.PROD)) {
                checkAgainstFloat64(what);
            }
        }

        private void checkAgainstFloat64(final String what) {
            final int w = originals.length;
            for (int i = 0; i < count; i++) {
                double ref = op == ReduceOp.PROD ? 1 : 0;
                double magnitude = 0;
                for (int r = 0; r < w; r++) {
                    final double x = originals[r].getFloat(i * 4);
                    ref = op == ReduceOp.PROD ? ref * x : ref + x;
                    magnitude += Math.abs(x);
                }
                if (op == ReduceOp.AVG) {
                    ref /= w;
                    magnitude /= w;
                }
                final double scale = op == ReduceOp.PROD ? Math.abs(ref) : magnitude;
                final double got = outputs[0].getFloat(i * 4);
                assertTrue(Math.abs(got - ref) <= 1e-5 * scale + Float.MIN_NORMAL, what + ": element " + i
                        + " = " + got + ", float64 reference " + ref + " (relative bound 1e-5 of " + scale + ")");
            }
        }

        private static int firstDifference(final ByteBuffer a, final ByteBuffer b) {
            for (int i = 0; i < Math.min(a.limit(), b.limit()); i++) {
                if (a.get(i) != b.get(i)) {
                    return i;
                }
            }
            return Math.min(a.limit(), b.limit());
        }
    }
}
