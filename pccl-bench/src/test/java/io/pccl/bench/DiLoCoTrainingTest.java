package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.DataType;
import io.pccl.MasterLostException;
import io.pccl.PcclException;
import io.pccl.master.Master;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DiLoCo and async DiLoCo through a real master and four in-JVM peers over loopback: three start, one is closed
 * abruptly after revision {@value #CLOSE_AT}, a newcomer joins after revision {@value #JOIN_AT}, and the group
 * runs to revision {@value #FINAL}. Every revision's θ and momentum are bit-identical on every peer that reached it,
 * the loss falls, the group shrinks and grows as it should, and in async mode the newcomer's first outer step
 * averages only the pseudo-gradients of the peers that had some (it contributes weight 0). The async run is repeated
 * with UINT8-quantized pseudo-gradients: the contributor count stays exact, since the weights are never quantized.
 */
@Tag("slow")
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class DiLoCoTrainingTest {
    private static final String LOOPBACK = "127.0.0.1";
    private static final int ELEMENTS = 4096;
    private static final int INNER_STEPS = 5;
    private static final long CLOSE_AT = 6;
    private static final long JOIN_AT = 12;
    private static final long FINAL = 30;
    private static final long BOUND_S = 60;

    /** Every peer's steps: name -> its steps in order. */
    private final Map<String, List<DiLoCoTraining.Step>> steps = new TreeMap<>();

    static Stream<Arguments> modes() {
        return Stream.of(Arguments.of(false, null), Arguments.of(true, null), Arguments.of(true, DataType.UINT8));
    }

    @ParameterizedTest(name = "async = {0}, quantized to {1}")
    @MethodSource("modes")
    void shouldKeepEveryPeerBitIdenticalThroughALossAndAJoinWhileTheLossFalls(final boolean async,
                                                                            final DataType quantize)
            throws Exception {
        System.out.println("DiLoCoTrainingTest async=" + async + " quantize=" + quantize
                + " seeds: init 1..4, data 101..104");
        final ExecutorService pool = Executors.newCachedThreadPool();
        try (Master master = Master.builder().host(LOOPBACK).port(0).heartbeatTimeout(Duration.ofSeconds(3)).build()
                .start()) {
            final List<Communicator> comms = new ArrayList<>();
            final List<Future<?>> loops = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                final int k = i;
                final Communicator c = communicator(master);
                comms.add(c);
                loops.add(pool.submit(() -> train("peer" + k, c, training(k + 1, async, quantize, false))));
            }
            awaitRevision(CLOSE_AT);
            final Communicator closed = comms.get(2);
            closed.close();
            awaitRevision(JOIN_AT);
            final Communicator newcomer = communicator(master);
            loops.add(pool.submit(() -> train("newcomer", newcomer, training(4, async, quantize, true))));
            for (int i = 0; i < loops.size(); i++) {
                if (i != 2) {
                    loops.get(i).get(BOUND_S, TimeUnit.SECONDS);
                }
            }
            newcomer.close();
            for (Communicator c : comms) {
                c.close();
            }
        } finally {
            pool.shutdownNow();
        }
        assertParity();
        final List<DiLoCoTraining.Step> survivor = stepsOf("peer0");
        assertEquals(FINAL, survivor.get(survivor.size() - 1).revision(), "peer0 ran to the end");
        assertTrue(survivor.stream().anyMatch(s -> s.world() == 3) && survivor.stream().anyMatch(s -> s.world() == 2),
                () -> "the group ran with 3 peers, then 2 after the close: " + survivor);
        assertEquals(3, survivor.get(survivor.size() - 1).world(), "the newcomer took part in the last step");
        final DiLoCoTraining.Step first = stepsOf("newcomer").get(0);
        assertEquals(async ? first.world() - 1 : first.world(), first.contributors(),
                () -> "contributors of the newcomer's first step " + first);
        final double initialLoss = 1.0 / 3; // θ and the target are both uniform in [-1, 1): E[½ (θ − t)²] = 1/3
        final double finalLoss = survivor.get(survivor.size() - 1).loss();
        assertTrue(finalLoss < initialLoss / 10, () -> "the loss fell from about " + initialLoss + " to " + finalLoss);
    }

    private DiLoCoTraining training(final int seed, final boolean async, final DataType quantize,
                                    final boolean joiner) {
        return new DiLoCoTraining(new DiLoCoModel(ELEMENTS, seed, 100 + seed), async, INNER_STEPS, 2, 2, quantize,
                joiner);
    }

    private static Communicator communicator(final Master master) {
        return Communicator.builder().masterAddress(LOOPBACK + ":" + master.port()).peerBasePort(0)
                .bindHost(LOOPBACK).connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(BOUND_S))
                .topologyTimeout(Duration.ofSeconds(BOUND_S)).heartbeatInterval(Duration.ofMillis(200))
                .heartbeatTimeout(Duration.ofSeconds(3)).progressTimeout(Duration.ofSeconds(10)).build();
    }

    /**
     * A peer's loop, as {@link TrainingPeer}'s: accept pending peers, wait for company, step; a peer that was just
     * accepted into a running group steps at once (the group is past its pending-peers query). Retryable failures
     * (a peer lost mid-step) start the step again. Returns at {@link #FINAL}, or when its communicator was closed.
     */
    private Void train(final String name, final Communicator comm, final DiLoCoTraining training) {
        try (training) {
            comm.connect();
            boolean joined = comm.peerGroupWorldSize() > 1;
            while (training.state().revision() < FINAL) {
                try {
                    if (!joined) {
                        if (comm.arePeersPending()) {
                            comm.updateTopology();
                        }
                        if (comm.peerGroupWorldSize() < 2) {
                            continue; // the joint pending-peers query paces this loop until a second peer is accepted
                        }
                    }
                    joined = false;
                    record(name, training.step(comm, revision -> { }));
                } catch (PcclException e) {
                    if (e.code() == PcclException.Code.CLOSED) {
                        return null;
                    }
                    if (!e.isRetryable() || e instanceof MasterLostException) {
                        throw e;
                    }
                    System.out.println(name + " retries after " + e);
                    joined = false;
                }
            }
            return null;
        } catch (PcclException e) {
            if (e.code() == PcclException.Code.CLOSED) {
                return null;
            }
            throw e;
        }
    }

    private synchronized void record(final String name, final DiLoCoTraining.Step step) {
        steps.computeIfAbsent(name, k -> new ArrayList<>()).add(step);
        notifyAll();
    }

    private synchronized List<DiLoCoTraining.Step> stepsOf(final String name) {
        return List.copyOf(steps.getOrDefault(name, List.of()));
    }

    /** Waits (bounded) until some peer reported {@code revision}. */
    private synchronized void awaitRevision(final long revision) throws InterruptedException {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(BOUND_S);
        while (steps.values().stream().noneMatch(l -> !l.isEmpty() && l.get(l.size() - 1).revision() >= revision)) {
            final long leftMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (leftMs <= 0) {
                throw new AssertionError("no peer reached revision " + revision + " within " + BOUND_S + " s: "
                        + steps);
            }
            wait(leftMs);
        }
    }

    /** Every revision that two or more peers reached: the same θ and momentum hash on each. */
    private synchronized void assertParity() {
        final Map<Long, Map<String, String>> byRevision = new TreeMap<>();
        steps.forEach((name, list) -> list.forEach(s -> byRevision.computeIfAbsent(s.revision(), r -> new TreeMap<>())
                .put(name, s.hash())));
        int shared = 0;
        for (Map.Entry<Long, Map<String, String>> e : byRevision.entrySet()) {
            assertEquals(1, e.getValue().values().stream().distinct().count(),
                    () -> "peers disagree at revision " + e.getKey() + ": " + e.getValue());
            if (e.getValue().size() > 1) {
                shared++;
            }
        }
        assertEquals(FINAL, shared, "every revision was reached by two or more peers: " + byRevision.keySet());
    }
}
