package io.pccl.bench;

import io.pccl.Communicator;
import io.pccl.CommunicatorStats;
import io.pccl.DataType;
import io.pccl.MasterLostException;
import io.pccl.OptimizeInfo;
import io.pccl.PcclException;
import io.pccl.Quantization;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceInfo;
import io.pccl.ReduceOp;
import io.pccl.ReduceOperation;
import io.pccl.SharedState;
import io.pccl.SharedStateSyncException;
import io.pccl.SyncInfo;
import io.pccl.SyncStrategy;
import io.pccl.TooFewPeersException;
import io.pccl.bench.internal.ChildJvm;
import io.pccl.hash.SimpleHash;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * One peer of the demo and of the churn harness (runs in its own JVM): a toy data-parallel training loop. Each
 * step: accept pending peers if any, synchronise the shared weights ({@code ENFORCE_POPULAR}), all-reduce the
 * average of the peers' gradients with the retry helper (split into {@code --ops} operations with distinct tags),
 * apply {@code w -= lr · g}, advance the revision. The gradient of peer p at step s is a fixed function of (p, s),
 * so results are reproducible for a given membership; the weights start random and differ per peer until the
 * first sync. A peer started with {@code --joiner} (it joins a run that already has state) votes
 * {@code RECEIVE_ONLY} until its first successful sync, so its random weights can never seed the group, not even
 * a group that a restarted master formed before any holder of the run's state came back
 * ({@code docs/fault-tolerance.md} §8). With {@code --algorithm DILOCO} or {@code ASYNC_DILOCO} a step is an
 * outer step of DiLoCo instead ({@link DiLoCoTraining}): the shared state is the outer parameters and momentum,
 * and the {@code STEP} line adds the loss, the peers that contributed a pseudo-gradient, and the milliseconds
 * spent in the inner steps and waiting for the all-reduce after them.
 *
 * <p>Output, one line each:
 * <ul>
 *   <li>{@code STEP rev=… world=… hash=… rx=… reduceMBps=…} after every step;</li>
 *   <li>{@code RETRY …} when a step failed retryably and starts again (after a pause if the master refused the
 *       sync, e.g. a joiner that found no holder of the state to fetch from);</li>
 *   <li>{@code RECONNECT …} when the master was lost, this peer was kicked (say, after it was frozen past the
 *       heartbeat timeout) or a membership call timed out: the communicator is closed
 *       and a new one connects, keeping the state and its revision ({@code docs/fault-tolerance.md} §8);</li>
 *   <li>{@code SKIPPED …} when the group fell below two peers during the all-reduce: the step is skipped and the
 *       revision still advances, as §8 recommends, and its {@code STEP} line says {@code world=1};</li>
 *   <li>{@code STATS allReducesOk=… allReducesFailed=… retryRounds=… droppedFrames=… syncsOk=… …} when a
 *       communicator ends (after each {@code RECONNECT} and before {@code DONE}): its {@code stats()};</li>
 *   <li>{@code DONE} at the end (exit status 0), or {@code FAILED …} for a failure that is not retryable (exit
 *       status 1).</li>
 * </ul>
 *
 * <p>Standard input: {@code go} starts a peer launched with {@code --wait-for-go} (lets the demo start the JVM
 * early and join at a chosen step); {@code stop}, or the end of input (the orchestrator is gone), makes the peer
 * finish its current step, close its communicator and exit. A peer still in {@code connect()} closes its
 * communicator at once, since no peer may be left to accept it.
 *
 * <p>Not thread-safe; the loop runs on the main thread, one daemon thread reads standard input (and closes the
 * communicator of a {@code connect()} in progress on {@code stop}).
 */
@Command(name = "training-peer", mixinStandardHelpOptions = true,
        description = "one peer of the demo and the churn harness (started by them in its own JVM)")
public final class TrainingPeer implements Callable<Integer> {
    private static final float LEARNING_RATE = 0.01f;
    /** What {@link #session()} asks of the loop around it. */
    private static final int FINISHED = 0;
    private static final int RETRY = 1;
    private static final int RECONNECT = 2;
    private static final int FAILED = 3;
    private static final long RECONNECT_BACKOFF_MS = 200;
    /** Pause after a refused sync: whatever was missing (a holder of the state) needs a topology change. */
    private static final long REFUSED_SYNC_BACKOFF_MS = 50;

    @Option(names = "--master", required = true, description = "master host:port")
    String master;
    @Option(names = "--steps", description = "steps to run; 0 runs until told to stop (default ${DEFAULT-VALUE})")
    long steps;
    @Option(names = "--final-world", description = "with --steps: keep going past the steps, up to 10 × steps, "
            + "until a step ran with this many peers (default ${DEFAULT-VALUE})")
    int finalWorld;
    @Option(names = "--elements", description = "float32 weights (default ${DEFAULT-VALUE})")
    int elements = 1 << 20;
    @Option(names = "--ops", description = "all-reduce operations per step, distinct tags (default ${DEFAULT-VALUE})")
    int ops = 1;
    @Option(names = "--max-in-flight", description = "operations in flight in the retry helper "
            + "(default ${DEFAULT-VALUE})")
    int maxInFlight = 1;
    @Option(names = "--connections", description = "connections per peer (default ${DEFAULT-VALUE})")
    int connections = 4;
    @Option(names = "--metrics-port", description = "serve this peer's statistics at http://127.0.0.1:PORT/metrics "
            + "(0: any free port; default ${DEFAULT-VALUE}: off)")
    int metricsPort = -1;
    @Mixin
    SecurityOptions security = new SecurityOptions();
    @Option(names = "--wait-for-go", description = "read a 'go' line from standard input before connecting")
    boolean waitForGo;
    @Option(names = "--joiner", description = "join a run that already has state: vote RECEIVE_ONLY until the "
            + "first successful sync, so this peer's initial weights never seed the group")
    boolean joiner;
    @Option(names = "--optimize-on-growth", description = "after a step that ran with more peers than this peer's "
            + "previous step (its first included), call optimizeTopology(): a joint call, so use it only where every "
            + "peer of such a step saw the same growth (no churn beyond joins and single kills)")
    boolean optimizeOnGrowth;
    @Mixin
    StepOptions step = new StepOptions();

    private final CountDownLatch go = new CountDownLatch(1);
    private volatile boolean stop;
    /** The communicator while it runs {@code connect()}: a stop closes it, since acceptance may never come. */
    private volatile Communicator connecting;
    private ByteBuffer weights;
    private ByteBuffer grad;
    private List<ReduceOperation> operations;
    private SharedState state;
    private int lastWorld;
    /** Whether this peer's weights came through a successful sync (always, unless {@code --joiner}). */
    private boolean holdsState;
    /** With {@code --algorithm DILOCO} or {@code ASYNC_DILOCO}: the steps; null for DDP. */
    private DiLoCoTraining diloco;

    /** What a step computes. */
    enum Algorithm {
        /** Data-parallel: every step all-reduces (averages) a gradient and applies it. */
        DDP,
        /** DiLoCo: inner steps, then the all-reduce of the pseudo-gradients and an outer step. */
        DILOCO,
        /** Async DiLoCo: the all-reduce of one step's pseudo-gradients overlaps the next step's inner steps. */
        ASYNC_DILOCO
    }

    private TrainingPeer() {
    }

    /**
     * Runs the peer and exits with its status.
     *
     * @param args the options above
     */
    public static void main(final String[] args) {
        System.exit(new CommandLine(new TrainingPeer()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        if (elements < 1 || elements > Integer.MAX_VALUE / 4 - 1 || ops < 1 || ops > elements
                || step.innerSteps < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "need 1 <= --elements <= "
                    + (Integer.MAX_VALUE / 4 - 1) + ", 1 <= --ops <= --elements and --inner-steps >= 1, got "
                    + elements + ", " + ops + " and " + step.innerSteps);
        }
        startInputReader();
        if (waitForGo) {
            go.await();
            if (stop) {
                System.out.println("DONE");
                return 0;
            }
        }
        final long pid = ProcessHandle.current().pid();
        if (!step.isDiLoCo()) {
            weights = ByteBuffer.allocateDirect(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
            grad = ByteBuffer.allocateDirect(elements * 4).order(ByteOrder.LITTLE_ENDIAN);
            final SplittableRandom init = new SplittableRandom(pid);
            for (int i = 0; i < elements; i++) {
                weights.putFloat(i * 4, (float) init.nextDouble(-1, 1));
            }
            operations = contiguousOperations(grad, elements, ops, ReduceOp.AVG, step.quantize);
            holdsState = !joiner;
            state = SharedState.builder().revision(0).entry("weights", weights, DataType.FLOAT32, elements).build();
        } else {
            diloco = new DiLoCoTraining(new DiLoCoModel(elements, pid, pid * 1_000_003L + 17),
                    step.algorithm == Algorithm.ASYNC_DILOCO, step.innerSteps, ops, maxInFlight, step.quantize,
                    joiner);
            state = diloco.state();
        }
        try {
            while (!finished()) {
                final int rc = session();
                if (rc == FAILED) {
                    return 1;
                }
                if (rc == RECONNECT && !stop) {
                    Thread.sleep(RECONNECT_BACKOFF_MS);
                }
            }
        } finally {
            if (diloco != null) {
                diloco.close();
            }
        }
        System.out.println("DONE");
        return 0;
    }

    private boolean finished() {
        return stop || steps != 0 && state.revision() >= steps
                && (lastWorld >= finalWorld || state.revision() >= 10L * steps);
    }

    /**
     * One communicator's life: connect, then train until finished, a failure, or the loss of the master (a new
     * communicator then reconnects, keeping the state and its revision: docs/fault-tolerance.md §8).
     *
     * @return {@link #FINISHED}, {@link #RECONNECT} or {@link #FAILED}
     */
    private int session() throws InterruptedException {
        final Communicator.Builder builder = Communicator.builder().masterAddress(master).peerBasePort(0)
                .connectionsPerPeer(connections).connectTimeout(Duration.ofSeconds(120))
                .topologyTimeout(Duration.ofSeconds(60)).heartbeatTimeout(Duration.ofSeconds(3))
                .benchmarkDuration(Duration.ofMillis(300));
        security.applyTo(builder);
        if (metricsPort >= 0) {
            builder.metricsPort(metricsPort);
        }
        final Communicator comm = builder.build();
        try {
            return live(comm);
        } finally {
            comm.close(); // first: operations the close fails are counted too
            printStats(comm.stats());
        }
    }

    /** The body of {@link #session()}: connects {@code comm}, then trains until finished or a failure. */
    private int live(final Communicator comm) throws InterruptedException {
        connecting = comm;
        try {
            if (stop) {
                return FINISHED;
            }
            comm.connect();
        } catch (PcclException e) {
            return stop ? FINISHED : afterFailure(e);
        } finally {
            connecting = null;
        }
        boolean joined = comm.peerGroupWorldSize() > 1;
        while (!finished()) {
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
                final int before = lastWorld;
                step(comm);
                if (optimizeOnGrowth && lastWorld > before && lastWorld > 1) {
                    optimize(comm);
                }
            } catch (PcclException e) {
                if (stop) {
                    return FINISHED;
                }
                final int next = afterFailure(e);
                if (next != RETRY) {
                    return next;
                }
                if (e instanceof SharedStateSyncException) {
                    Thread.sleep(REFUSED_SYNC_BACKOFF_MS);
                }
                joined = false;
            }
        }
        return FINISHED;
    }

    /** One {@code STATS} line: what a communicator counted over its life (printed when it ends). */
    private static void printStats(final CommunicatorStats s) {
        System.out.println(String.format(Locale.ROOT, "STATS allReducesOk=%d allReducesFailed=%d retryRounds=%d "
                + "droppedFrames=%d syncsOk=%d syncsFailed=%d syncRxBytes=%d topologyUpdatesFailed=%d",
                s.allReducesSucceeded(), s.allReducesFailed(), s.allReduceRetryRounds(), s.droppedFrames(),
                s.syncsSucceeded(), s.syncsFailed(), s.syncRxBytes(), s.topologyUpdatesFailed()));
    }

    /** Reorders the group's ring by measured bandwidth (a joint call) and prints an {@code OPTIMIZED} line. */
    private void optimize(final Communicator comm) {
        final long t0 = System.nanoTime();
        final OptimizeInfo info = comm.optimizeTopology();
        System.out.println(String.format(Locale.ROOT, "OPTIMIZED rev=%d world=%d ring=%s bottleneckMbps=%.0f "
                + "measured=%d ms=%d", state.revision(), comm.peerGroupWorldSize(), info.ring(),
                info.bottleneckMbitPerS(), info.edgesMeasured(), (System.nanoTime() - t0) / 1_000_000L));
    }

    /**
     * With {@code --optimize-every}: optimizes right after a successful sync to a revision that is a multiple of it.
     * The sync's revision is the group's, so every member calls {@code optimizeTopology()} at the same point of its
     * loop, whatever its own history (a retried step, a reconnect, a newcomer).
     */
    private void afterSync(final Communicator comm, final long revision) {
        if (step.optimizeEvery > 0 && revision % step.optimizeEvery == 0) {
            optimize(comm);
        }
    }

    /** Says what a failure means for the loop, on one line of output. */
    private static int afterFailure(final PcclException e) {
        if (e instanceof MasterLostException || e.code() == PcclException.Code.KICKED
                || e.code() == PcclException.Code.TIMEOUT) {
            // Close the communicator and start again with a new one (docs/fault-tolerance.md §8).
            System.out.println("RECONNECT " + e);
            return RECONNECT;
        }
        if (!e.isRetryable()) {
            System.out.println("FAILED " + e);
            return FAILED;
        }
        System.out.println("RETRY " + e);
        return RETRY;
    }

    /** One training step of the chosen algorithm; prints its {@code STEP} line. */
    private void step(final Communicator comm) {
        if (diloco == null) {
            dataParallelStep(comm);
            return;
        }
        final DiLoCoTraining.Step s = diloco.step(comm, revision -> afterSync(comm, revision));
        if (s.world() == 1) {
            System.out.println("SKIPPED the group fell below two peers during the all-reduce");
        }
        lastWorld = s.world();
        System.out.println(String.format(Locale.ROOT, "STEP rev=%d world=%d hash=%s rx=%d reduceMBps=%.1f loss=%.6g"
                + " contributors=%d innerMs=%.1f waitMs=%.1f", s.revision(), s.world(), s.hash(), s.syncRxBytes(),
                s.reduceMBps(), s.loss(), s.contributors(), s.innerMs(), s.waitMs()));
    }

    /** One data-parallel step: sync, all-reduce the gradient, apply it, advance the revision, print the step. */
    private void dataParallelStep(final Communicator comm) {
        final SyncInfo sync = comm.syncSharedState(state,
                holdsState ? SyncStrategy.ENFORCE_POPULAR : SyncStrategy.RECEIVE_ONLY);
        holdsState = true;
        afterSync(comm, state.revision());
        fillGradient(grad, elements, comm.peerId(), state.revision());
        int world = 1;
        double mbps = 0;
        try {
            final long t0 = System.nanoTime();
            final ReduceInfo info = comm.allReduceMultipleWithRetry(operations, maxInFlight);
            final long t1 = System.nanoTime();
            for (int i = 0; i < elements; i++) {
                weights.putFloat(i * 4, weights.getFloat(i * 4) - LEARNING_RATE * grad.getFloat(i * 4));
            }
            world = info.worldSize();
            mbps = (info.txBytes() + info.rxBytes()) / ((t1 - t0) / 1e3);
        } catch (TooFewPeersException e) {
            // The group fell below two peers during the step: skip it (docs/fault-tolerance.md §8).
            System.out.println("SKIPPED " + e.getMessage());
        }
        // Exactly once per successful sync, whether the step ran or not.
        state.incrementRevision();
        lastWorld = world;
        // One println per line: a line written in pieces could be cut by a SIGKILL or interleaved.
        System.out.println(String.format(Locale.ROOT, "STEP rev=%d world=%d hash=%08x rx=%d reduceMBps=%.1f",
                state.revision(), world, SimpleHash.hash(weights), sync.rxBytes(), mbps));
    }

    /**
     * Splits a float32 buffer into {@code ops} contiguous in-place operations with tags 0, 1, ..., the way the demo's
     * and the churn harness's peers all-reduce their gradients.
     *
     * @param buffer little-endian float32 values from position 0
     * @param elements values in {@code buffer}
     * @param ops operations, {@code 1 <= ops <= elements}
     * @param op the reduction
     * @param quantize MinMax-quantize to this type, or null
     * @return the operations, in tag order
     */
    static List<ReduceOperation> contiguousOperations(final ByteBuffer buffer, final int elements, final int ops,
                                                      final ReduceOp op, final DataType quantize) {
        final List<ReduceOperation> list = new ArrayList<>(ops);
        for (int k = 0; k < ops; k++) {
            final int from = (int) ((long) elements * k / ops);
            final int to = (int) ((long) elements * (k + 1) / ops);
            final ByteBuffer part = buffer.duplicate().position(from * 4).limit(to * 4).slice()
                    .order(ByteOrder.LITTLE_ENDIAN);
            final ReduceDescriptor d = ReduceDescriptor.of(to - from, DataType.FLOAT32, op).tag(k);
            list.add(new ReduceOperation(part, part,
                    quantize == null ? d : d.quantization(Quantization.MIN_MAX, quantize)));
        }
        return list;
    }

    private void startInputReader() {
        final Thread t = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    if ("go".equals(line.trim())) {
                        go.countDown();
                    } else if ("stop".equals(line.trim())) {
                        break;
                    }
                }
            } catch (IOException e) {
                // treated like the end of input
            }
            stop = true;
            go.countDown();
            final Communicator c = connecting;
            if (c != null) {
                c.close();
            }
        }, "stdin");
        t.setDaemon(true);
        t.start();
    }

    private static void fillGradient(final ByteBuffer grad, final int elements, final long peerId,
                                     final long step) {
        final SplittableRandom r = new SplittableRandom(peerId * 1_000_003L + step);
        for (int i = 0; i < elements; i++) {
            grad.putFloat(i * 4, (float) r.nextDouble(-1, 1));
        }
    }

    /**
     * Starts a training peer in its own JVM (512 MiB heap; its log, warnings only, goes to standard output so
     * that log lines and the peer's own lines never interleave within a line).
     *
     * @param name the child's name, for messages
     * @param args this command's options
     * @return the running child
     */
    static ChildJvm start(final String name, final List<String> args) {
        return ChildJvm.start(name, List.of("-Xmx512m", "-Dio.netty.leakDetection.level=disabled",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-Dorg.slf4j.simpleLogger.logFile=System.out"),
                TrainingPeer.class.getName(), args);
    }

    /**
     * Parses the {@code key=value} words of an output line.
     *
     * @param line a {@code STEP} line
     * @return key to value
     */
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
