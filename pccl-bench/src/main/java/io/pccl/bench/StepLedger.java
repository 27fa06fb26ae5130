package io.pccl.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the {@code STEP} lines of a run's {@link TrainingPeer}s reported: each peer's weight hash per revision, for
 * the parity check, the all-reduce throughputs per world size, and for DiLoCo the loss per revision and the
 * per-step timings. The demo and the churn harness both keep one.
 *
 * <p>Thread-safe: the demo's reader threads record into it concurrently; reports are copies.
 */
final class StepLedger {
    /** revision -> (peer name -> weights hash). */
    private final Map<Long, Map<String, String>> hashes = new TreeMap<>();
    /** world size -> throughputs (MB/s, payload sent + received per second). */
    private final Map<Integer, List<Double>> throughput = new TreeMap<>();
    /** Name of a per-step figure (say {@code waitMs}) -> its samples over all peers and steps. */
    private final Map<String, List<Double>> figures = new TreeMap<>();
    /** Revision -> the loss some peer reported after the step to it (the same on every peer with the same state). */
    private final Map<Long, Double> losses = new TreeMap<>();

    /** Records {@code peer}'s weight hash after the step to {@code revision}. */
    synchronized void hash(final String peer, final long revision, final String hash) {
        hashes.computeIfAbsent(revision, k -> new TreeMap<>()).put(peer, hash);
    }

    /** Records one all-reduce throughput measured with {@code world} peers. */
    synchronized void throughput(final int world, final double mbps) {
        throughput.computeIfAbsent(world, k -> new ArrayList<>()).add(mbps);
    }

    /** Records one sample of the per-step figure {@code name}. */
    synchronized void figure(final String name, final double value) {
        figures.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
    }

    /** Records the loss after the step to {@code revision}. */
    synchronized void loss(final long revision, final double loss) {
        losses.put(revision, loss);
    }

    /** The samples of the figure {@code name}, sorted ascending (the median is at {@code length / 2}); may be empty. */
    synchronized double[] figure(final String name) {
        final double[] v = figures.getOrDefault(name, List.of()).stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(v);
        return v;
    }

    /** Revision -> loss, ascending by revision. */
    synchronized SortedMap<Long, Double> losses() {
        return new TreeMap<>(losses);
    }

    /** The revisions whose peers reported different hashes, each with its peers' hashes; empty when all agree. */
    synchronized SortedMap<Long, Map<String, String>> disagreements() {
        final SortedMap<Long, Map<String, String>> out = new TreeMap<>();
        for (Map.Entry<Long, Map<String, String>> e : hashes.entrySet()) {
            if (e.getValue().values().stream().distinct().count() != 1) {
                out.put(e.getKey(), new TreeMap<>(e.getValue()));
            }
        }
        return out;
    }

    /** How many revisions some peer reported. */
    synchronized int revisions() {
        return hashes.size();
    }

    /** How many revisions two or more peers reported, all with the same hash. */
    synchronized int revisionsAgreedByTwoOrMore() {
        int n = 0;
        for (Map<String, String> byPeer : hashes.values()) {
            if (byPeer.size() > 1 && byPeer.values().stream().distinct().count() == 1) {
                n++;
            }
        }
        return n;
    }

    /** World size -> the throughputs recorded with it, sorted ascending (the median is at {@code length / 2}). */
    synchronized SortedMap<Integer, double[]> throughputByWorld() {
        final SortedMap<Integer, double[]> out = new TreeMap<>();
        for (Map.Entry<Integer, List<Double>> e : throughput.entrySet()) {
            final double[] v = e.getValue().stream().mapToDouble(Double::doubleValue).toArray();
            Arrays.sort(v);
            out.put(e.getKey(), v);
        }
        return out;
    }
}
