package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.DataType;
import io.pccl.SharedState;
import io.pccl.SyncInfo;
import io.pccl.SyncStrategy;
import io.pccl.bench.internal.LoopbackPeers;
import io.pccl.master.Master;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Shared-state transfer throughput: a peer holding {@code --size-mib} of shared state and a joining peer with
 * different (stale) content synchronise; the joiner receives the whole state peer-to-peer and verifies its hash.
 * Repeated {@code --rounds} times (the joiner's content is scrambled before each round); prints the median
 * transfer rate as seen by the receiver (rx bytes over the duration of its {@code syncSharedState} call).
 *
 * <pre>
 * java -jar pccl-bench/target/pccl-bench.jar sync --size-mib 256 --rounds 3
 * </pre>
 *
 * <p>Not thread-safe; runs once on the main thread (plus one thread for the holder's calls).
 */
@Command(name = "sync", mixinStandardHelpOptions = true,
        description = "shared-state transfer throughput to a joining peer over loopback")
public final class SyncBench implements Callable<Integer> {
    @Option(names = "--size-mib", description = "shared state size in MiB (default ${DEFAULT-VALUE})")
    int sizeMib = 256;
    @Option(names = "--rounds", description = "timed transfers (default ${DEFAULT-VALUE})")
    int rounds = 3;

    @Override
    public Integer call() throws Exception {
        final int bytes = sizeMib << 20;
        final ByteBuffer held = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer stale = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN);
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < bytes; i += 8) {
            held.putLong(i, random.nextLong());
        }
        final double[] mbps = new double[rounds];
        try (Master master = Master.builder().host("127.0.0.1").port(0).build().start();
             Communicator holder = LoopbackPeers.newPeer(master);
             Communicator joiner = LoopbackPeers.newPeer(master)) {
            holder.connect();
            final CompletableFuture<Void> accept = CompletableFuture.runAsync(() -> {
                while (holder.peerGroupWorldSize() < 2) {
                    holder.updateTopology();
                }
            });
            joiner.connect();
            accept.get(60, TimeUnit.SECONDS);
            final SharedState holderState = SharedState.builder().revision(0)
                    .entry("weights", held, DataType.UINT8, bytes).build();
            final SharedState joinerState = SharedState.builder().revision(0)
                    .entry("weights", stale, DataType.UINT8, bytes).build();
            for (int round = 0; round < rounds; round++) {
                stale.putLong(0, ~held.getLong(0)); // differs from the holder: the joiner must fetch everything
                final CompletableFuture<SyncInfo> holderSync = CompletableFuture.supplyAsync(
                        () -> holder.syncSharedState(holderState, SyncStrategy.SEND_ONLY));
                final long t0 = System.nanoTime();
                final SyncInfo info = joiner.syncSharedState(joinerState, SyncStrategy.RECEIVE_ONLY);
                final long t1 = System.nanoTime();
                holderSync.get(120, TimeUnit.SECONDS);
                if (info.rxBytes() != bytes || !stale.equals(held)) {
                    System.out.println("round " + round + ": transfer incomplete, rx=" + info.rxBytes());
                    return 1;
                }
                mbps[round] = info.rxBytes() / ((t1 - t0) / 1e3);
                System.out.printf(Locale.ROOT, "round %d: %d bytes in %.1f ms = %.0f MB/s%n", round,
                        info.rxBytes(), (t1 - t0) / 1e6, mbps[round]);
                holderState.incrementRevision();
                joinerState.incrementRevision();
            }
        }
        Arrays.sort(mbps);
        System.out.printf(Locale.ROOT, "shared-state transfer of %d MiB to a joining peer: median %.0f MB/s%n",
                sizeMib, mbps[rounds / 2]);
        return 0;
    }
}
