package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.PcclException;
import io.pccl.bench.internal.LoopbackPeers;
import io.pccl.master.Master;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Join latency: the time from {@code connect()} to accepted for a new peer while one existing peer loops on
 * {@code updateTopology()}, against an embedded master on loopback. Repeats the join {@code --joins} times
 * (the joiner closes after each) and prints the median, min and max.
 *
 * <pre>
 * java -jar pccl-bench/target/pccl-bench.jar join-latency --joins 50
 * </pre>
 *
 * <p>Not thread-safe; runs once on the main thread (plus the existing peer's loop thread).
 */
@Command(name = "join-latency", mixinStandardHelpOptions = true,
        description = "connect() -> accepted latency while an existing peer loops on updateTopology()")
public final class JoinLatencyBench implements Callable<Integer> {
    @Option(names = "--joins", description = "timed joins (default ${DEFAULT-VALUE})")
    int joins = 50;
    @Option(names = "--warmup", description = "untimed joins (default ${DEFAULT-VALUE})")
    int warmup = 5;

    @Override
    public Integer call() throws Exception {
        try (Master master = Master.builder().host("127.0.0.1").port(0).build().start();
             Communicator existing = LoopbackPeers.newPeer(master)) {
            existing.connect();
            final AtomicBoolean stop = new AtomicBoolean();
            final Thread loop = new Thread(() -> {
                while (!stop.get()) {
                    try {
                        existing.updateTopology();
                    } catch (PcclException e) {
                        if (!e.isRetryable()) {
                            System.err.println("existing peer: " + e);
                            return;
                        }
                    }
                }
            }, "existing-peer-loop");
            loop.setDaemon(true);
            loop.start();
            final long[] nanos = new long[joins];
            for (int i = 0; i < warmup + joins; i++) {
                try (Communicator joiner = LoopbackPeers.newPeer(master)) {
                    final long t0 = System.nanoTime();
                    joiner.connect();
                    final long t1 = System.nanoTime();
                    if (i >= warmup) {
                        nanos[i - warmup] = t1 - t0;
                    }
                }
            }
            stop.set(true);
            loop.join(10_000);
            Arrays.sort(nanos);
            System.out.printf(Locale.ROOT, "join latency over %d joins (2 peers, loopback): median %.2f ms, "
                            + "min %.2f ms, max %.2f ms%n", joins, nanos[joins / 2] / 1e6, nanos[0] / 1e6,
                    nanos[joins - 1] / 1e6);
        }
        return 0;
    }
}
