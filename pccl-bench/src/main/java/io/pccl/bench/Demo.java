package io.pccl.bench;

import io.pccl.bench.internal.ChildJvm;
import io.pccl.bench.internal.TempSecurity;
import io.pccl.master.Master;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The demo: an embedded master plus several peer JVMs that train a toy model data-parallel — each step they
 * synchronise the shared weights, all-reduce (average) their gradients with retries and apply the update. Midway
 * one peer is SIGKILLed; later a fresh peer joins and receives the weights. Every peer prints the hash of its
 * weights after each step; the demo checks that all peers agree at every step (bit parity) and prints the
 * all-reduce throughput.
 *
 * <pre>
 * java -jar pccl-bench/target/pccl-bench.jar demo --peers 3 --steps 40
 * </pre>
 *
 * <p>Not thread-safe; runs once on the main thread (plus one reader thread per peer).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "master + peers doing real all-reduces; one peer killed, one joining; parity check")
public final class Demo implements Callable<Integer> {
    @Option(names = "--peers", description = "initial peers (default ${DEFAULT-VALUE})")
    int peers = 3;
    @Option(names = "--steps", description = "training steps (default ${DEFAULT-VALUE})")
    int steps = 40;
    @Option(names = "--elements", description = "float32 parameters (default ${DEFAULT-VALUE})")
    int elements = 1 << 20;
    @Option(names = "--connections", description = "connections per peer (default ${DEFAULT-VALUE})")
    int connections = 4;
    @Option(names = "--kill-at", description = "step at which one peer is SIGKILLed (default ${DEFAULT-VALUE})")
    int killAt = 10;
    @Option(names = "--join-at", description = "step at which a new peer is started (default ${DEFAULT-VALUE})")
    int joinAt = 20;
    @Option(names = "--no-optimize", description = "do not optimize the ring order (by default the peers measure "
            + "their links and reorder the ring after each step in which the group grew: at the start and after the "
            + "join)")
    boolean noOptimize;
    @Mixin
    StepOptions step = new StepOptions();
    @Mixin
    TempSecurityOptions secure = new TempSecurityOptions();
    /** The key and TLS files of the master and the peers ({@code --auth}, {@code --tls}). */
    private TempSecurity security = TempSecurity.NONE;

    /** The peers' steps (hashes per revision, throughputs); the reader threads record into it. */
    private final StepLedger ledger = new StepLedger();

    @Override
    public Integer call() throws Exception {
        if (joinAt <= killAt || steps <= joinAt + 5) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                    "need --kill-at < --join-at < --steps - 5, got " + killAt + ", " + joinAt + ", " + steps);
        }
        System.out.printf("pccl-java demo: %d peers, %d steps, %d float32 parameters (%.1f MiB), %s%n", peers,
                steps, elements, elements * 4 / 1048576.0, step.describe());
        final Master.Builder masterBuilder = Master.builder().host("127.0.0.1").port(0)
                .heartbeatTimeout(java.time.Duration.ofSeconds(3));
        security = secure.create();
        security.applyTo(masterBuilder);
        if (!secure.describe().isEmpty()) {
            System.out.println(secure.describe().substring(2));
        }
        try (Master master = masterBuilder.build().start()) {
            System.out.println("master listening on 127.0.0.1:" + master.port());
            final List<ChildJvm> children = new ArrayList<>();
            final List<Thread> readers = new ArrayList<>();
            final CountDownLatch killPoint = new CountDownLatch(1);
            final CountDownLatch joinPoint = new CountDownLatch(1);
            try {
                for (int i = 0; i < peers; i++) {
                    children.add(startPeer(master, i, "peer" + i, readers, killPoint, joinPoint, false));
                }
                // started now so that its JVM is warm; it joins when told to
                final ChildJvm joiner = startPeer(master, peers, "joiner", readers, killPoint, joinPoint, true);
                if (!killPoint.await(300, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("peers did not reach step " + killAt + " within 300 s");
                }
                final ChildJvm victim = children.get(children.size() - 1);
                System.out.println(">>> step " + killAt + ": SIGKILL " + victim.name() + " (pid " + victim.pid() + ")");
                victim.kill();
                if (!joinPoint.await(300, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("survivors did not reach step " + joinAt + " within 300 s");
                }
                System.out.println(">>> step " + joinAt + ": a new peer joins");
                joiner.send("go");
                children.add(joiner);
                for (Thread t : readers) {
                    t.join(TimeUnit.SECONDS.toMillis(600));
                }
                for (ChildJvm c : children) {
                    if (c != victim) {
                        final int rc = c.waitFor(30_000);
                        if (rc != 0) {
                            System.out.println(c.name() + " exited with " + rc);
                            return 1;
                        }
                    }
                }
            } finally {
                for (ChildJvm c : children) {
                    c.close();
                }
            }
        }
        printThroughput();
        printDiLoCo();
        return checkParity() ? 0 : 1;
    }

    private ChildJvm startPeer(final Master master, final int index, final String name, final List<Thread> readers,
                               final CountDownLatch killPoint, final CountDownLatch joinPoint, final boolean wait) {
        final List<String> args = new ArrayList<>(List.of("--master=127.0.0.1:" + master.port(), "--steps=" + steps,
                "--final-world=" + peers, "--elements=" + elements, "--connections=" + connections));
        if (!noOptimize) {
            args.add("--optimize-on-growth");
        }
        args.addAll(step.peerArgs());
        args.addAll(security.peerArgs(index));
        if (wait) {
            // The late peer joins a run that has state: it must never seed the group.
            args.add("--wait-for-go");
            args.add("--joiner");
        }
        final ChildJvm c = TrainingPeer.start(name, args);
        final Thread t = new Thread(() -> {
            try {
                while (true) {
                    final String line = c.awaitLine(l -> true, 600_000, null);
                    System.out.println("[" + name + "] " + line);
                    if (line.startsWith("STEP ")) {
                        final Map<String, String> kv = TrainingPeer.parse(line);
                        final long rev = Long.parseLong(kv.get("rev"));
                        ledger.hash(name, rev, kv.get("hash"));
                        ledger.throughput(Integer.parseInt(kv.get("world")), Double.parseDouble(kv.get("reduceMBps")));
                        if (kv.containsKey("loss")) {
                            ledger.loss(rev, Double.parseDouble(kv.get("loss")));
                            ledger.figure("innerMs", Double.parseDouble(kv.get("innerMs")));
                            ledger.figure("waitMs", Double.parseDouble(kv.get("waitMs")));
                        }
                        if (rev >= killAt) {
                            killPoint.countDown();
                        }
                        if (rev >= joinAt) {
                            joinPoint.countDown();
                        }
                    }
                    if (line.startsWith("DONE")) {
                        return;
                    }
                }
            } catch (IllegalStateException e) {
                System.out.println("[" + name + "] " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "reader-" + name);
        t.setDaemon(true);
        t.start();
        readers.add(t);
        return c;
    }

    private void printThroughput() {
        for (Map.Entry<Integer, double[]> e : ledger.throughputByWorld().entrySet()) {
            final double[] v = e.getValue();
            System.out.printf(java.util.Locale.ROOT, "all-reduce throughput at %d peers: median %.0f MB/s "
                    + "(payload sent + received per second, %d samples, %.1f MiB float32 %s)%n", e.getKey(),
                    v[v.length / 2], v.length, elements * 4 / 1048576.0,
                    step.isDiLoCo() ? "SUM of pseudo-gradients" : "AVG");
        }
    }

    /** DiLoCo only: the loss over the run and how long the steps waited for their all-reduce after the inner steps. */
    private void printDiLoCo() {
        final java.util.SortedMap<Long, Double> losses = ledger.losses();
        if (losses.isEmpty()) {
            return;
        }
        final double[] inner = ledger.figure("innerMs");
        final double[] wait = ledger.figure("waitMs");
        System.out.printf(java.util.Locale.ROOT, "%s: loss %.4g after revision %d, %.4g after revision %d; per outer "
                + "step (median over peers and steps): inner steps %.1f ms, then waiting for the all-reduce %.1f ms%n",
                step.algorithm, losses.get(losses.firstKey()), losses.firstKey(), losses.get(losses.lastKey()),
                losses.lastKey(), inner[inner.length / 2], wait[wait.length / 2]);
    }

    private boolean checkParity() {
        final int checked = ledger.revisions();
        final Map<Long, Map<String, String>> disagreements = ledger.disagreements();
        for (Map.Entry<Long, Map<String, String>> e : disagreements.entrySet()) {
            System.out.println("PARITY FAILURE at step " + e.getKey() + ": " + e.getValue());
        }
        final boolean ok = disagreements.isEmpty();
        System.out.println(ok ? "parity check: OK — all peers held bit-identical weights at each of " + checked
                + " steps" : "parity check: FAILED");
        return ok && checked >= steps;
    }
}
