package io.pccl;

import io.pccl.SyncCluster.Outcome;
import io.pccl.hash.HashType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bit parity over a training-like loop: 3 peers run 50 steps of {sync; update; increment revision}. After the first
 * sync (which makes the differently initialised peers identical) no sync moves a byte, because every peer applies
 * the same deterministic update; a fourth peer joining at step 25 receives the whole state once and then also moves
 * nothing. The update is pluggable ({@link StepUpdate}, invoked concurrently on every peer's own thread, so a joint
 * call inside it works): a deterministic local update ({@link #LOCAL_UPDATE}) and an all-reduce-averaged gradient
 * ({@link #ALL_REDUCE_UPDATE}).
 */
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedStateBitParityTest {
    private static final int N = 1 << 18;
    private static final int STEPS = 50;
    private static final int JOIN_AT = 25;
    private static final long SEED = 20261128L;
    /** Bytes of the two float entries. */
    private static final long FLOATS_BYTES = 2L * N * Float.BYTES;

    /** One training step's change to a peer's shared state; must leave identical states identical. */
    @FunctionalInterface
    interface StepUpdate {
        /**
         * Applies step {@code step} to one peer's state.
         *
         * @param comm the peer's communicator (for joint calls such as all-reduce)
         * @param model the peer's model
         * @param step the step number
         */
        void apply(Communicator comm, Model model, int step);
    }

    /** A deterministic local update, identical on every peer (no communication). */
    static final StepUpdate LOCAL_UPDATE = (comm, m, step) -> {
        for (int i = 0; i < N; i++) {
            final float grad = (float) StrictMath.sin(step * 0.37 + i * 0.001) * 1e-3f;
            m.momentum[i] = 0.9f * m.momentum[i] + grad;
            m.weights[i] = m.weights[i] * 0.999f - 0.01f * m.momentum[i];
        }
        m.step[0]++;
    };

    /**
     * An all-reduce-driven update: each peer derives a different local gradient from its peer id, the group averages
     * it with {@link Communicator#allReduce(float[], float[], ReduceDescriptor)} (bit-identical on every peer), and
     * every peer applies the averaged gradient.
     */
    static final StepUpdate ALL_REDUCE_UPDATE = (comm, m, step) -> {
        final float[] grad = new float[N];
        final long id = comm.peerId();
        for (int i = 0; i < N; i++) {
            grad[i] = (float) StrictMath.sin(step * 0.37 + i * 0.001 + id) * 1e-3f;
        }
        comm.allReduce(grad, grad, ReduceDescriptor.of(N, DataType.FLOAT32, ReduceOp.AVG));
        for (int i = 0; i < N; i++) {
            m.momentum[i] = 0.9f * m.momentum[i] + grad[i];
            m.weights[i] = m.weights[i] * 0.999f - 0.01f * m.momentum[i];
        }
        m.step[0]++;
    };

    /** One peer's model: weights, optimizer momentum and a step counter, as a shared state. Not thread-safe. */
    static final class Model {
        final float[] weights = new float[N];
        final float[] momentum = new float[N];
        final long[] step = new long[1];
        final SharedState state = SharedState.builder().entry("weights", weights).entry("momentum", momentum)
                .entry("step", step, DataType.UINT64, 1).build();

        Model(final long seed) {
            if (seed != 0) {
                final SplittableRandom r = new SplittableRandom(seed);
                for (int i = 0; i < N; i++) {
                    weights[i] = (float) r.nextGaussian();
                    momentum[i] = (float) r.nextGaussian() * 0.1f;
                }
            }
        }

        long hash() {
            long h = 0;
            for (final SharedState.Entry e : state.entries()) {
                h = h * 31 + e.hash(HashType.CRC32C);
            }
            return h;
        }
    }

    private SyncCluster cluster;

    @BeforeEach
    void start() {
        cluster = new SyncCluster();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void fiftyStepsStayBitIdenticalAndAJoinerReceivesTheStateOnce() throws Exception {
        run(LOCAL_UPDATE);
    }

    @Test
    void fiftyAllReduceStepsStayBitIdenticalAndAJoinerReceivesTheStateOnce() throws Exception {
        run(ALL_REDUCE_UPDATE);
    }

    private void run(final StepUpdate update) throws Exception {
        System.out.println("bit parity: seeds " + SEED + ", " + (SEED + 1) + ", " + (SEED + 2));
        final List<Communicator> comms = cluster.group(0, 3);
        final List<Model> models = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            models.add(new Model(SEED + p));
        }
        for (int step = 0; step < STEPS; step++) {
            boolean joined = false;
            if (step == JOIN_AT) {
                cluster.join(comms, cluster.newPeer(0));
                models.add(new Model(0));
                joined = true;
            }
            final List<SharedState> states = new ArrayList<>();
            for (final Model m : models) {
                states.add(m.state);
            }
            final List<Outcome> r = cluster.syncAll(comms, states);
            long tx = 0;
            for (int p = 0; p < models.size(); p++) {
                final SyncInfo info = r.get(p).ok("step " + step + " peer " + p);
                tx += info.txBytes();
                assertEquals(step, info.revision(), "revision at step " + step);
                final long expectedRx;
                if (step == 0) {
                    expectedRx = p == 0 ? 0 : FLOATS_BYTES;
                } else {
                    expectedRx = joined && p == models.size() - 1 ? FLOATS_BYTES + Long.BYTES : 0;
                }
                assertEquals(expectedRx, info.rxBytes(), "rx of peer " + p + " at step " + step + ": " + info);
            }
            final long expectedTx = step == 0 ? 2 * FLOATS_BYTES : joined ? FLOATS_BYTES + Long.BYTES : 0;
            assertEquals(expectedTx, tx, "bytes sent in the group at step " + step);
            final long reference = models.get(0).hash();
            for (int p = 1; p < models.size(); p++) {
                assertEquals(reference, models.get(p).hash(), "state of peer " + p + " after the sync at step " + step);
            }
            final List<Future<?>> updates = new ArrayList<>();
            for (int p = 0; p < models.size(); p++) {
                final Communicator c = comms.get(p);
                final Model m = models.get(p);
                final int s = step;
                updates.add(cluster.async(() -> {
                    update.apply(c, m, s);
                    m.state.incrementRevision();
                    return null;
                }));
            }
            for (final Future<?> f : updates) {
                f.get(SyncCluster.BOUND_S, TimeUnit.SECONDS);
            }
        }
        for (final Model m : models) {
            assertEquals(STEPS, m.step[0]);
        }
    }
}
