package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.ReduceOperation;
import io.pccl.SharedState;
import io.pccl.SyncInfo;
import io.pccl.SyncStrategy;
import io.pccl.hash.SimpleHash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One peer of the demo (runs in its own JVM): a toy data-parallel training loop. Each step: accept pending peers
 * if any, synchronise the shared weights (ENFORCE_POPULAR), all-reduce the average of the peers' gradients with
 * the retry helper, apply {@code w -= lr · g}, advance the revision. The gradient of peer p at step s is a fixed
 * function of (p, s), so results are reproducible; the weights start random and differ per peer until the first
 * sync. Prints {@code STEP rev=… world=… hash=… rx=… reduceMBps=…} after every step and {@code DONE} at the end.
 *
 * <p>Not thread-safe; runs on the main thread.
 */
public final class DemoPeer {
    private static final float LEARNING_RATE = 0.01f;

    private DemoPeer() {
    }

    /**
     * Runs the peer.
     *
     * @param args master address, steps, elements, connections per peer
     */
    public static void main(final String[] args) {
        final String master = args[0];
        final int steps = Integer.parseInt(args[1]);
        final int elements = Integer.parseInt(args[2]);
        final int connections = Integer.parseInt(args[3]);
        final ByteBuffer weights = ByteBuffer.allocateDirect(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer grad = ByteBuffer.allocateDirect(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
        final SplittableRandom init = new SplittableRandom(ProcessHandle.current().pid());
        for (int i = 0; i < elements; i++) {
            weights.putFloat(i * 4, (float) init.nextDouble(-1, 1));
        }
        final SharedState state = SharedState.builder().revision(0)
                .entry("weights", weights, DataType.FLOAT32, elements).build();
        try (Communicator comm = Communicator.builder().masterAddress(master).peerBasePort(0)
                .connectionsPerPeer(connections).connectTimeout(Duration.ofSeconds(120))
                .topologyTimeout(Duration.ofSeconds(60)).heartbeatTimeout(Duration.ofSeconds(3)).build()) {
            comm.connect();
            boolean joined = comm.peerGroupWorldSize() > 1;
            while (state.revision() < steps) {
                try {
                    if (!joined) {
                        if (comm.arePeersPending()) {
                            comm.updateTopology();
                        }
                        if (comm.peerGroupWorldSize() < 2) {
                            Thread.sleep(20); // a lone peer waits for company; nothing to synchronise with
                            continue;
                        }
                    }
                    joined = false;
                    final SyncInfo sync = comm.syncSharedState(state, SyncStrategy.ENFORCE_POPULAR);
                    fillGradient(grad, elements, comm.peerId(), state.revision());
                    final long t0 = System.nanoTime();
                    final ReduceInfo info = comm.allReduceMultipleWithRetry(List.of(new ReduceOperation(grad, grad,
                            ReduceDescriptor.of(elements, DataType.FLOAT32, ReduceOp.AVG))), 1);
                    final long t1 = System.nanoTime();
                    for (int i = 0; i < elements; i++) {
                        weights.putFloat(i * 4, weights.getFloat(i * 4) - LEARNING_RATE * grad.getFloat(i * 4));
                    }
                    state.incrementRevision();
                    System.out.printf(Locale.ROOT, "STEP rev=%d world=%d hash=%08x rx=%d reduceMBps=%.1f%n",
                            state.revision(), info.worldSize(), SimpleHash.hash(weights), sync.rxBytes(),
                            (info.txBytes() + info.rxBytes()) / ((t1 - t0) / 1e3));
                } catch (PcclException e) {
                    if (!e.isRetryable()) {
                        throw e;
                    }
                    System.out.println("retrying after " + e);
                    joined = false;
                }
            }
            System.out.println("DONE");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void fillGradient(final ByteBuffer grad, final int elements, final long peerId,
                                     final long step) {
        final SplittableRandom r = new SplittableRandom(peerId * 1_000_003L + step);
        for (int i = 0; i < elements; i++) {
            grad.putFloat(i * 4, (float) r.nextDouble(-1, 1));
        }
    }

    static Map<String, String> parse(final String line) {
        final Map<String, String> kv = new HashMap<>();
        for (String part : line.split(" ")) {
            final int eq = part.indexOf('=');
            if (eq > 0) {
                kv.put(part.substring(0, eq), part.substring(eq + 1));
            }
        }
        return kv;
    }
}
