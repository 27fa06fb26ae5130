package io.pccl.bench;

import io.pccl.bench.internal.ChildJvm;
import io.pccl.bench.internal.TempSecurity;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayDeque;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The churn harness: an embedded master and a changing set of peer JVMs ({@link TrainingPeer}) that train
 * continuously while the harness, at seeded random intervals, SIGKILLs peers, asks some to leave and starts new
 * ones, freezes some (SIGSTOP, then SIGCONT: a peer that goes silent without closing its connections), and every
 * {@code --master-restart-every} seconds restarts the master on its port. Kills land in
 * whatever the victim is doing: an all-reduce, a shared-state transfer, a topology update, or, for a peer that has
 * not completed a step yet, its JVM start, registration or join. A peer that has stepped is killed only while more
 * than {@code --min-peers} have, so that the group's state always survives. A peer started once some peer has
 * stepped is a joiner ({@code TrainingPeer --joiner}): it never seeds the group, so a master restart cannot
 * start a second lineage from peers that never held the run's state. The run passes when
 * <ul>
 *   <li>every peer that reported a revision held bit-identical weights at it (parity);</li>
 *   <li>some peer completed a step at least every {@code --stall-timeout} (liveness);</li>
 *   <li>no peer failed on its own (a non-retryable error or an exit nobody asked for);</li>
 *   <li>after {@code stop}, every peer still running finished its step and exited 0 within
 *       {@code --exit-timeout} (nothing hangs).</li>
 * </ul>
 * It prints what happened: spawns, kills, steps, retried steps, the longest gap between steps, how long the
 * survivors took to complete a step after each kill, and the throughput per world size.
 *
 * <pre>
 * java -jar pccl-bench/target/pccl-bench.jar churn --duration 300 --seed 7
 * </pre>
 *
 * <p>Not thread-safe: {@link #run()} runs once, on one thread, which owns all state; one reader thread per peer
 * only forwards that peer's output lines into a queue.
 */
@Command(name = "churn", mixinStandardHelpOptions = true,
        description = "churn harness: peers train while others are SIGKILLed, frozen, told to leave and started at "
                + "random and the master restarts; checks parity, liveness, failures and clean exits")
public final class Churn implements Callable<Integer> {
    /** Lines kept per peer for the report of a failure. */
    private static final int TAIL_LINES = 20;

    @Option(names = "--duration", description = "seconds of churn (default ${DEFAULT-VALUE})")
    int durationS = 60;
    @Option(names = "--min-kills", description = "keep churning past --duration, up to 3 × --duration, until this "
            + "many peers were SIGKILLed while stepping (a slow machine makes newcomers step late, and only stepping "
            + "peers beyond --min-peers can be killed); the master is removed during --duration only "
            + "(default ${DEFAULT-VALUE})")
    int minKills;
    @Option(names = "--min-removals", description = "the same for removals of stepping peers of any kind: SIGKILLs, "
            + "leaves and freezes (default ${DEFAULT-VALUE})")
    int minRemovals;
    @Option(names = "--min-master-removals", description = "the same for removals of the master, each followed by a "
            + "step; removals go on past --duration only until this many happened (default ${DEFAULT-VALUE})")
    int minMasterRemovals;
    @Option(names = "--seed", description = "seed of the kill/spawn schedule (default ${DEFAULT-VALUE})")
    long seed = 1;
    @Option(names = "--initial-peers", description = "peers started at the beginning (default ${DEFAULT-VALUE})")
    int initialPeers = 3;
    @Option(names = "--min-peers", description = "a kill never leaves fewer peers that have completed a step "
            + "(default ${DEFAULT-VALUE}, at least 2)")
    int minPeers = 2;
    @Option(names = "--max-peers", description = "peer JVMs running at most (default ${DEFAULT-VALUE})")
    int maxPeers = 5;
    @Option(names = "--interval-ms", split = ",", description = "each action follows the previous one after a "
            + "uniformly random delay in [min,max] ms (default ${DEFAULT-VALUE})")
    long[] intervalMs = {500, 2000};
    @Option(names = "--kill-weight", description = "probability that an action removes a peer (SIGKILL, leave or "
            + "freeze) rather than starting one, when both are possible (default ${DEFAULT-VALUE})")
    double killWeight = 0.4;
    @Option(names = "--starting-kill-share", description = "the probability that a kill is aimed at a peer that has "
            + "not completed a step yet rather than one that has; without a candidate of the drawn kind a peer is "
            + "started instead (default ${DEFAULT-VALUE})")
    double startingKillShare = 0.25;
    @Option(names = "--leave-share", description = "the probability that removing a peer that has stepped is a "
            + "graceful leave (it finishes its step, closes its communicator and must exit 0 within "
            + "--exit-timeout) instead of a SIGKILL (default ${DEFAULT-VALUE})")
    double leaveShare = 0.2;
    @Option(names = "--freeze-share", description = "the probability that removing a peer that has stepped "
            + "freezes it (SIGSTOP: its connections stay open and silent, like a vanished host) for --freeze-for "
            + "seconds, then resumes it (SIGCONT), instead of a SIGKILL (default ${DEFAULT-VALUE})")
    double freezeShare = 0.1;
    @Option(names = "--freeze-for", description = "seconds a frozen peer stays stopped (default ${DEFAULT-VALUE}; "
            + "the master's heartbeat timeout is 3 s)")
    int freezeForS = 5;
    @Option(names = "--elements", description = "float32 weights per peer (default ${DEFAULT-VALUE})")
    int elements = 1 << 18;
    @Option(names = "--ops", description = "all-reduce operations per step (default ${DEFAULT-VALUE})")
    int ops = 4;
    @Option(names = "--max-in-flight", description = "operations in flight per step (default ${DEFAULT-VALUE})")
    int maxInFlight = 2;
    @Mixin
    StepOptions step = new StepOptions();
    @Mixin
    TempSecurityOptions secure = new TempSecurityOptions();
    @Option(names = "--connections", description = "connections per peer (default ${DEFAULT-VALUE})")
    int connections = 2;
    @Option(names = "--stall-timeout", description = "seconds without a completed step that fail the run "
            + "(default ${DEFAULT-VALUE})")
    int stallTimeoutS = 60;
    @Option(names = "--exit-timeout", description = "seconds the peers get to exit after stop "
            + "(default ${DEFAULT-VALUE})")
    int exitTimeoutS = 60;
    @Option(names = "--master-restart-every", description = "seconds between removals of the master, cycling "
            + "a graceful stop and a crash (each followed by a new master on the same port) and, with "
            + "--master-process, a freeze; a removal also waits until a peer stepped since the previous one (or "
            + "since the start), so that each removal meets a running ring; 0 never removes it "
            + "(default ${DEFAULT-VALUE})")
    int masterRestartEveryS = 120;
    @Option(names = "--master-process", description = "run the master daemon (pccl-master's MasterMain) in its own "
            + "JVM: its stop is a SIGTERM, its crash a SIGKILL, and it can be frozen")
    boolean masterProcess;
    @Option(names = "--master-freeze-for", description = "with --master-process: seconds the master stays SIGSTOPped "
            + "before its SIGCONT; the peers' heartbeat timeout is 3 s (default ${DEFAULT-VALUE})")
    int masterFreezeForS = 5;
    @Option(names = "--master-state-file", description = "give the master a state file in a temporary directory, which"
            + " each new master reads: a restarted master then refuses to let a peer that fell behind seed a group"
            + " (docs/fault-tolerance.md §7)")
    boolean masterStateFile;
    @Option(names = "--master-state-grace-ms", description = "with --master-state-file: how long a restored group waits"
            + " for a peer at its revision, from its first registration (default ${DEFAULT-VALUE})")
    long masterStateGraceMs = 10_000;
    @Option(names = "--verbose", description = "echo every peer output line, and keep the master's INFO log (by "
            + "default this JVM logs warnings only, unless org.slf4j.simpleLogger.defaultLogLevel is set)")
    boolean verbose;

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<Peer> peers = new ArrayList<>();
    /** The peers' steps: hashes per revision, and throughputs of the steps that ran with two or more peers. */
    private final StepLedger ledger = new StepLedger();
    /** SIGKILLs of stepping peers; a survivor's step (a peer started before the kill) ends each. */
    private final Disruptions kills = new Disruptions();
    /** Per peer that completed a step: milliseconds from its JVM's start to that step. */
    private final List<Long> firstStepMs = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    /** Removals of the master; a step of a peer that connected again (or for the first time) since ends each. */
    private final Disruptions masterRestarts = new Disruptions();
    /** Freezes; a step of any other peer ends each. */
    private final Disruptions freezes = new Disruptions();
    private int kicks;
    private ChurnMaster master;
    private int masterPort;
    /** Kinds of the master's removals, in order (stop, crash, freeze). */
    private final List<String> masterRemovals = new ArrayList<>();
    /** When a frozen master is resumed; 0 when it is not frozen. */
    private long masterThawNs;
    private long t0;
    private long lastStepNs;
    private long longestGapNs;
    private long steps;
    private long maxRevision;
    /** The key and TLS files of the master and the peers ({@code --auth}, {@code --tls}). */
    private TempSecurity security = TempSecurity.NONE;
    /** The masters' state file ({@code --master-state-file}). */
    private ChurnMaster.StateFile stateFile = ChurnMaster.StateFile.NONE;
    private int retries;
    /** {@code OPTIMIZED} lines: a peer's {@code optimizeTopology()} that returned. */
    private int optimizations;
    private int reconnects;
    /** Sums over the {@code STATS} lines: one per communicator life that ended without a SIGKILL. */
    private int communicatorLives;
    private long failedAttempts;
    private long retryRounds;
    private long droppedFrames;
    private int skippedSteps;
    /** SIGKILLs of peers that had not completed a step yet. */
    private int startingKills;
    /** Peers asked to leave during the churn. */
    private int leaves;
    private int spawned;
    private boolean stopping;

    /** What one run did; {@link #passed()} is the verdict. */
    record Result(int spawns, int kills, int startingKills, int leaves, int freezes, int kicks, int masterRestarts,
                  int reconnects, long steps, long maxRevision,
                  int revisionsChecked, int retries, int skippedSteps, long longestGapMs, List<Long> recoveryMs,
                  List<Long> masterRecoveryMs, int cleanExits, int optimizations, int communicatorLives,
                  long failedAttempts, long retryRounds, long droppedFrames, List<String> failures) {
        boolean passed() {
            return failures.isEmpty() && steps > 0;
        }
    }

    /** One peer JVM. */
    private static final class Peer {
        final String name;
        final ChildJvm jvm;
        final long startedNs;
        final Deque<String> tail = new ArrayDeque<>();
        boolean established;
        boolean killed;
        boolean exited;
        boolean exitedCleanly;
        /** Whether it was asked to leave (stop) during the churn, and when. */
        boolean leaving;
        long leavingSinceNs;
        /** Whether it is stopped by SIGSTOP now, and until when. */
        boolean frozen;
        long frozenUntilNs;
        /** Frozen past the heartbeat timeout and not yet reconnected: the one time a kick is expected. */
        boolean removalExpected;
        /** Whether it ever completed a step (established may be reset by a freeze). */
        boolean everStepped;
        /** When it last reported a new communicator (RECONNECT); 0 if never. */
        long reconnectedNs;

        Peer(final String name, final ChildJvm jvm, final long startedNs) {
            this.name = name;
            this.jvm = jvm;
            this.startedNs = startedNs;
        }

        boolean alive() {
            return !killed && !exited;
        }
    }

    /**
     * Disruptions of one kind (kills, freezes, master restarts) and, for each, how long until a step that counts
     * for it completed. Confined to the harness thread.
     */
    private static final class Disruptions {
        private final List<Long> atNs = new ArrayList<>();
        private final List<Predicate<Peer>> counts = new ArrayList<>();
        /** Nanoseconds from the disruption to the first step that counts; -1 until there is one. */
        private final List<Long> untilStepNs = new ArrayList<>();

        void add(final long at, final Predicate<Peer> stepCounts) {
            atNs.add(at);
            counts.add(stepCounts);
            untilStepNs.add(-1L);
        }

        void onStep(final Peer p, final long at) {
            for (int i = 0; i < atNs.size(); i++) {
                if (untilStepNs.get(i) < 0 && at > atNs.get(i) && counts.get(i).test(p)) {
                    untilStepNs.set(i, at - atNs.get(i));
                }
            }
        }

        int size() {
            return atNs.size();
        }

        boolean allFollowedByAStep() {
            return !untilStepNs.contains(-1L);
        }

        /** The times to the next step in milliseconds, in order, for the disruptions a step followed. */
        List<Long> recoveryMs() {
            final List<Long> ms = new ArrayList<>();
            for (long ns : untilStepNs) {
                if (ns >= 0) {
                    ms.add(TimeUnit.NANOSECONDS.toMillis(ns));
                }
            }
            return ms;
        }
    }

    /** An output line of a peer, or its end ({@code line == null}). */
    private record Event(Peer peer, String line, long atNs) {
    }

    @Override
    public Integer call() throws InterruptedException, IOException {
        return run().passed() ? 0 : 1;
    }

    /**
     * Runs the harness: churn for the duration, then stop every peer and check.
     *
     * @return what happened
     * @throws InterruptedException if interrupted (the peers are killed)
     */
    Result run() throws InterruptedException, IOException {
        validate();
        if (!verbose && System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            // Read when the first logger is made: the master's round-by-round INFO lines would bury the report.
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        System.out.printf(Locale.ROOT, "pccl-java churn: %d s, seed %d, %d-%d peers, actions every %d-%d ms "
                + "(kill weight %.2f; of removals of stepping peers, leaves %.2f and freezes %.2f for %d s), %s "
                + "master removed every %d s (0: never)%s, %d float32 weights in %d all-reduce(s) per step, %s%s%n",
                durationS, seed, minPeers, maxPeers, intervalMs[0], intervalMs[1], killWeight, leaveShare,
                freezeShare, freezeForS, masterProcess ? "a daemon" : "an embedded", masterRestartEveryS,
                masterStateFile ? " with a state file (grace " + masterStateGraceMs + " ms)" : "", elements,
                ops, step.describe(),
                secure.describe());
        final SplittableRandom random = new SplittableRandom(seed);
        security = secure.create();
        final Path stateDir = masterStateFile ? Files.createTempDirectory("pccl-churn-master") : null;
        if (stateDir != null) {
            stateFile = new ChurnMaster.StateFile(stateDir.resolve("master-state"),
                    Duration.ofMillis(masterStateGraceMs));
        }
        master = startMaster(0);
        masterPort = master.port();
        try {
            t0 = System.nanoTime();
            lastStepNs = t0;
            for (int i = 0; i < initialPeers; i++) {
                spawn(t0);
            }
            churn(random);
            stopAll();
        } finally {
            for (Peer p : peers) {
                p.jvm.close();
            }
            if (master != null) {
                master.close();
            }
            if (stateDir != null) {
                deleteTree(stateDir);
            }
        }
        return report();
    }

    /** Deletes the state file's directory and what a killed master may have left in it. */
    private static void deleteTree(final Path dir) throws IOException {
        try (var entries = Files.newDirectoryStream(dir)) {
            for (final Path p : entries) {
                Files.deleteIfExists(p);
            }
        }
        Files.deleteIfExists(dir);
    }

    private ChurnMaster startMaster(final int port) throws InterruptedException {
        return masterProcess ? ChurnMaster.process(port, verbose, security, stateFile)
                : ChurnMaster.embedded(port, security, stateFile);
    }

    /**
     * Takes the master away, as an operator restarting the daemon would or as a crash or a vanished host would:
     * every peer loses the master, closes its communicator and connects again, keeping its state (a new group
     * elects the highest revision among the holders; joiners wait for one). The kinds cycle: a graceful stop (peers
     * are told it is shutting down) and a crash (their connections just close), each followed at once by a new
     * master on the same port; with {@code --master-process} also a freeze (SIGSTOP: the peers find it silent after
     * their heartbeat timeout; it resumes after {@code --master-freeze-for} seconds, and their new connections,
     * accepted by its kernel meanwhile, are served then).
     */
    private void restartMaster(final long now) throws InterruptedException {
        final String kind = master.kind(masterRemovals.size());
        masterRemovals.add(kind);
        // Counts a step of a peer that connected since (so not one that was already finishing).
        masterRestarts.add(now, p -> p.startedNs > now || p.reconnectedNs > now);
        if (kind.equals("freeze")) {
            log(now, "SIGSTOP the master for %d s (running: %s)", masterFreezeForS, describeAlive());
            master.freeze();
            masterThawNs = now + TimeUnit.SECONDS.toNanos(masterFreezeForS);
            return;
        }
        log(now, "%s the master on port %d and start a new one (running: %s)", kind, masterPort, describeAlive());
        if (kind.equals("crash")) {
            master.crash();
        } else {
            master.stop();
        }
        noteMasterFailure();
        master = null;
        try {
            master = startMaster(masterPort);
        } catch (java.io.UncheckedIOException | IllegalStateException e) {
            failures.add("the master could not bind its port " + masterPort + " again right after closing: "
                    + e.getMessage());
        }
    }

    private void noteMasterFailure() {
        final String f = master.failure();
        if (f != null) {
            failures.add(f);
        }
    }

    private void validate() {
        final CommandLine cl = new CommandLine(this);
        if (minPeers < 2 || maxPeers <= minPeers || initialPeers < 2 || initialPeers > maxPeers) {
            throw new CommandLine.ParameterException(cl, "need 2 <= --min-peers < --max-peers and 2 <= "
                    + "--initial-peers <= --max-peers, got " + minPeers + ", " + maxPeers + ", " + initialPeers);
        }
        if (intervalMs.length != 2 || intervalMs[0] < 1 || intervalMs[1] < intervalMs[0]) {
            throw new CommandLine.ParameterException(cl, "--interval-ms needs min,max with 1 <= min <= max, got "
                    + java.util.Arrays.toString(intervalMs));
        }
        if (masterStateGraceMs < 1) {
            throw new CommandLine.ParameterException(cl, "--master-state-grace-ms must be >= 1, got "
                    + masterStateGraceMs);
        }
        if (freezeShare < 0 || freezeShare > 1 || freezeForS < 1) {
            throw new CommandLine.ParameterException(cl, "--freeze-share must be in [0, 1] and --freeze-for >= 1, "
                    + "got " + freezeShare + " and " + freezeForS);
        }
        if (masterProcess && masterRestartEveryS > 0 && (masterFreezeForS < 1
                || masterFreezeForS >= masterRestartEveryS)) {
            throw new CommandLine.ParameterException(cl, "--master-freeze-for must be >= 1 and below "
                    + "--master-restart-every, got " + masterFreezeForS + " and " + masterRestartEveryS);
        }
        if (masterRestartEveryS < 0) {
            throw new CommandLine.ParameterException(cl, "--master-restart-every must be >= 0, got "
                    + masterRestartEveryS);
        }
        if (minKills < 0 || minRemovals < 0 || minMasterRemovals < 0) {
            throw new CommandLine.ParameterException(cl, "--min-kills, --min-removals and --min-master-removals "
                    + "must be >= 0, got " + minKills + ", " + minRemovals + " and " + minMasterRemovals);
        }
        if (durationS < 1 || stallTimeoutS < 1 || exitTimeoutS < 1 || killWeight < 0 || killWeight > 1
                || startingKillShare < 0 || startingKillShare > 1 || leaveShare < 0 || leaveShare > 1) {
            throw new CommandLine.ParameterException(cl, "--duration, --stall-timeout and --exit-timeout must be "
                    + ">= 1, --kill-weight, --starting-kill-share and --leave-share in [0, 1]; got " + durationS
                    + ", " + stallTimeoutS + ", " + exitTimeoutS + ", " + killWeight + ", " + startingKillShare
                    + ", " + leaveShare);
        }
    }

    private void churn(final SplittableRandom random) throws InterruptedException {
        final long end = t0 + TimeUnit.SECONDS.toNanos(durationS);
        // Past the duration only to meet --min-kills / --min-removals, and then at most twice as long again.
        final long latestEnd = t0 + TimeUnit.SECONDS.toNanos(3L * durationS);
        final long stallNs = TimeUnit.SECONDS.toNanos(stallTimeoutS);
        long nextAction = t0 + delay(random);
        final long restartNs = TimeUnit.SECONDS.toNanos(masterRestartEveryS);
        long nextRestart = t0 + restartNs;
        long now = System.nanoTime();
        boolean extended = false;
        while (failures.isEmpty()) {
            final long until = quotaMet() ? end : latestEnd;
            if (now >= until) {
                break;
            }
            if (now >= end && !extended) {
                extended = true;
                log(now, "churn goes on past %d s: %d of --min-kills %d, %d of --min-removals %d, %d of "
                        + "--min-master-removals %d so far", durationS, kills.size(), minKills, removals(),
                        minRemovals, masterRemovals.size(), minMasterRemovals);
            }
            // Waiting for a step since the last removal, the loop wakes on the peers' lines, not on the schedule.
            final boolean masterMayGo = restartNs > 0 && masterThawNs == 0
                    && (now < end || masterRemovals.size() < minMasterRemovals)
                    && steps > 0 && masterRestarts.allFollowedByAStep();
            final long wake = Math.min(Math.min(Math.min(nextAction, until), masterMayGo ? nextRestart : until),
                    Math.min(nextThaw(until), masterThawNs > 0 ? masterThawNs : until));
            final Event e = events.poll(wake - now, TimeUnit.NANOSECONDS);
            if (e != null) {
                handle(e);
            }
            now = System.nanoTime();
            if (master != null) {
                noteMasterFailure();
            }
            final Peer overdue = leaverOverdue(now);
            final Peer thawing = thawDue(now);
            if (now - lastStepNs > stallNs) {
                failures.add(String.format(Locale.ROOT, "no peer completed a step for %.1f s (limit %d s); "
                        + "running: %s", (now - lastStepNs) / 1e9, stallTimeoutS, describeAlive()));
            } else if (overdue != null) {
                failures.add(overdue.name + " was asked to leave " + exitTimeoutS + " s ago and still runs");
            } else if (thawing != null) {
                log(now, "SIGCONT %s (pid %d)", thawing.name, thawing.jvm.pid());
                thaw(thawing);
            } else if (masterThawNs > 0 && now >= masterThawNs) {
                log(now, "SIGCONT the master");
                master.thaw();
                masterThawNs = 0;
            } else if (masterMayGo && now >= nextRestart) {
                restartMaster(now);
                nextRestart = now + restartNs;
            } else if (now >= nextAction && now < until) {
                act(random, now);
                nextAction = now + delay(random);
            }
        }
        if (extended) {
            log(now, "churn ended after %.1f s: %d SIGKILLs of stepping peers, %d removals in all", (now - t0) / 1e9,
                    kills.size(), removals());
        }
        if (masterThawNs > 0) {
            // The peers asked to stop next finish their step, which needs a master.
            log(now, "SIGCONT the master (end of the run)");
            master.thaw();
            masterThawNs = 0;
        }
    }

    /**
     * Whether the removals of stepping peers reached {@code --min-kills} and {@code --min-removals}, and the master's
     * {@code --min-master-removals}, each followed by a step.
     */
    private boolean quotaMet() {
        return kills.size() >= minKills && removals() >= minRemovals && (minMasterRemovals == 0
                || masterRemovals.size() >= minMasterRemovals && masterRestarts.allFollowedByAStep());
    }

    /** Removals of stepping peers: SIGKILLs, leaves and freezes. */
    private int removals() {
        return kills.size() + leaves + freezes.size();
    }

    private long nextThaw(final long otherwise) {
        long t = otherwise;
        for (Peer p : peers) {
            if (p.frozen) {
                t = Math.min(t, p.frozenUntilNs);
            }
        }
        return t;
    }

    private Peer thawDue(final long now) {
        for (Peer p : peers) {
            if (p.frozen && now >= p.frozenUntilNs) {
                return p;
            }
        }
        return null;
    }

    private void thaw(final Peer p) {
        p.frozen = false;
        if (p.alive()) {
            signal(p, "CONT");
        }
    }

    /**
     * Sends a signal to a peer.
     *
     * @return whether it was delivered; a failure is recorded
     */
    private boolean signal(final Peer p, final String sig) {
        final String problem = Signals.send(p.jvm.pid(), sig);
        if (problem != null) {
            failures.add(p.name + ": " + problem);
        }
        return problem == null;
    }

    private Peer leaverOverdue(final long now) {
        for (Peer p : peers) {
            if (p.alive() && p.leaving
                    && now - p.leavingSinceNs > TimeUnit.SECONDS.toNanos(exitTimeoutS)) {
                return p;
            }
        }
        return null;
    }

    private long delay(final SplittableRandom random) {
        return TimeUnit.MILLISECONDS.toNanos(random.nextLong(intervalMs[0], intervalMs[1] + 1));
    }

    /** One scheduled action: a start, a SIGKILL, a graceful leave or a freeze, within the peer-count bounds. */
    private void act(final SplittableRandom random, final long now) {
        final List<Peer> alive = new ArrayList<>();
        final List<Peer> established = new ArrayList<>();
        int frozen = 0;
        for (Peer p : peers) {
            // A peer asked to leave is on its way out, and a frozen one is about to be removed: neither is chosen,
            // and only the frozen one still occupies a place under --max-peers (it comes back when thawed). A thawed
            // one rejoins as a new member and counts as stepping again after its next step.
            if (p.alive() && !p.leaving && p.frozen) {
                frozen++;
            } else if (p.alive() && !p.leaving) {
                alive.add(p);
                if (p.established) {
                    established.add(p);
                }
            }
        }
        // A kill hits a peer that has not stepped yet (starting, connecting, joining) with probability
        // --starting-kill-share, else one that has; the latter only while more than --min-peers have, so that the
        // group's state always survives. When the drawn kind has no candidate, the action is a start instead.
        final List<Peer> starting = new ArrayList<>(alive);
        starting.removeAll(established);
        final List<Peer> stepping = established.size() > minPeers ? established : List.of();
        // Draw every time, so that the schedule depends only on the seed and the peer counts.
        final boolean preferKill = random.nextDouble() < killWeight;
        final boolean hitStarting = random.nextDouble() < startingKillShare;
        final double which = random.nextDouble();
        final boolean leave = random.nextDouble() < leaveShare;
        final boolean freeze = random.nextDouble() < freezeShare;
        final List<Peer> victims = hitStarting ? starting : stepping;
        final boolean canKill = alive.size() > minPeers && !victims.isEmpty();
        final boolean canSpawn = alive.size() + frozen < maxPeers;
        final int victimIndex = (int) (which * victims.size());
        if (canKill && (preferKill || !canSpawn)) {
            final Peer victim = victims.get(victimIndex);
            if (victim.established && leave) {
                log(now, "stop %s (leaves gracefully; %d running, %d of them stepping)", victim.name, alive.size(),
                        established.size());
                victim.leaving = true;
                victim.leavingSinceNs = now;
                tell(victim, "stop");
                leaves++;
                return;
            }
            if (victim.established && freeze) {
                log(now, "SIGSTOP %s (pid %d) for %d s (%d running, %d of them stepping)", victim.name,
                        victim.jvm.pid(), freezeForS, alive.size(), established.size());
                if (signal(victim, "STOP")) {
                    victim.frozen = true;
                    victim.removalExpected = true;
                    victim.established = false;
                    victim.frozenUntilNs = now + TimeUnit.SECONDS.toNanos(freezeForS);
                    freezes.add(now, p -> p != victim);
                }
                return;
            }
            log(now, "SIGKILL %s (pid %d, %s; %d running, %d of them stepping)", victim.name, victim.jvm.pid(),
                    victim.established ? "stepping" : victim.everStepped ? "rejoining after a freeze"
                    : "not stepped yet", alive.size(), established.size());
            victim.killed = true;
            victim.jvm.kill();
            if (victim.established) {
                kills.add(now, p -> p.startedNs <= now);
            } else {
                startingKills++;
            }
        } else if (canSpawn) {
            spawn(now);
        }
    }

    private void spawn(final long now) {
        final int index = spawned++;
        final String name = "peer" + index;
        final List<String> args = new ArrayList<>(List.of("--master=127.0.0.1:" + masterPort, "--steps=0",
                "--elements=" + elements, "--ops=" + ops, "--max-in-flight=" + maxInFlight,
                "--connections=" + connections));
        args.addAll(step.peerArgs());
        args.addAll(security.peerArgs(index));
        // Once the run has state, a new peer joins it and must never seed it (docs/fault-tolerance.md §8).
        final boolean joiner = steps > 0;
        if (joiner) {
            args.add("--joiner");
        }
        final ChildJvm jvm = TrainingPeer.start(name, args);
        final Peer p = new Peer(name, jvm, now);
        peers.add(p);
        log(now, "start %s (pid %d%s)", name, jvm.pid(), joiner ? ", joiner" : "");
        final Thread reader = new Thread(() -> forward(p), "churn-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    /** Reader thread: forwards the peer's lines, then its end. */
    private void forward(final Peer p) {
        try {
            while (true) {
                events.add(new Event(p, p.jvm.awaitLine(l -> true, TimeUnit.DAYS.toMillis(7), null),
                        System.nanoTime()));
            }
        } catch (IllegalStateException ended) {
            events.add(new Event(p, null, System.nanoTime()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(final Event e) throws InterruptedException {
        final Peer p = e.peer;
        if (e.line == null) {
            p.exited = true;
            final int rc = p.jvm.waitFor(10_000);
            final boolean asked = stopping || p.leaving;
            p.exitedCleanly = asked && !p.killed && rc == 0;
            if (!p.killed && !p.exitedCleanly) {
                failures.add(p.name + " exited with status " + rc + (asked ? " after it was asked to stop"
                        : " on its own") + "; its last lines:\n    " + String.join("\n    ", p.tail));
            }
            return;
        }
        if (p.tail.size() == TAIL_LINES) {
            p.tail.removeFirst();
        }
        p.tail.addLast(e.line);
        if (verbose) {
            System.out.println("[" + p.name + "] " + e.line);
        }
        if (e.line.startsWith("STEP ")) {
            final Map<String, String> kv = TrainingPeer.parse(e.line);
            if (isNumber(kv.get("rev")) && isNumber(kv.get("world")) && kv.get("hash") != null
                    && kv.get("reduceMBps") != null) {
                onStep(p, kv, e.atNs);
            } else if (!p.killed) {
                // A SIGKILL may cut the victim's last line; any other peer writes whole lines.
                failures.add(p.name + " wrote an unreadable step line: '" + e.line + "'");
            }
        } else {
            if (e.line.startsWith("RETRY ")) {
                retries++;
            } else if (e.line.startsWith("OPTIMIZED ")) {
                optimizations++;
            } else if (e.line.startsWith("STATS ")) {
                final Map<String, String> kv = TrainingPeer.parse(e.line);
                if (isNumber(kv.get("allReducesFailed")) && isNumber(kv.get("retryRounds"))
                        && isNumber(kv.get("droppedFrames"))) { // a SIGKILL may cut a line
                    communicatorLives++;
                    failedAttempts += Long.parseLong(kv.get("allReducesFailed"));
                    retryRounds += Long.parseLong(kv.get("retryRounds"));
                    droppedFrames += Long.parseLong(kv.get("droppedFrames"));
                }
            } else if (e.line.startsWith("RECONNECT ")) {
                reconnects++;
                p.reconnectedNs = e.atNs;
                if (e.line.contains("[KICKED]")) {
                    kicks++;
                    if (!p.removalExpected) {
                        // Only a peer that went silent past the heartbeat timeout has a reason to be removed.
                        failures.add(p.name + " was kicked without having been frozen: " + e.line);
                    }
                }
                if (!p.frozen) {
                    p.removalExpected = false;
                }
            }
            if (!verbose && (e.line.startsWith("RETRY ") || e.line.startsWith("RECONNECT ")
                    || e.line.startsWith("SKIPPED ") || e.line.startsWith("FAILED "))) {
                log(e.atNs, "[%s] %s", p.name, e.line);
            }
        }
    }

    private static double parseOrNaN(final String s) {
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static boolean isNumber(final String s) {
        if (s == null || s.isEmpty() || s.length() > 18) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (!Character.isDigit(s.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private void onStep(final Peer p, final Map<String, String> kv, final long atNs) {
        final long rev = Long.parseLong(kv.get("rev"));
        ledger.hash(p.name, rev, kv.get("hash"));
        final int world = Integer.parseInt(kv.get("world"));
        if (world > 1) {
            ledger.throughput(world, parseOrNaN(kv.get("reduceMBps")));
        } else {
            skippedSteps++;
        }
        steps++;
        maxRevision = Math.max(maxRevision, rev);
        if (steps > 1) {
            longestGapNs = Math.max(longestGapNs, atNs - lastStepNs);
        }
        lastStepNs = Math.max(lastStepNs, atNs);
        p.established = true;
        if (!p.everStepped) {
            p.everStepped = true;
            firstStepMs.add(TimeUnit.NANOSECONDS.toMillis(atNs - p.startedNs));
        }
        kills.onStep(p, atNs);
        freezes.onStep(p, atNs);
        masterRestarts.onStep(p, atNs);
    }

    /** Asks every running peer to stop and waits, bounded, until each has exited. */
    private void stopAll() throws InterruptedException {
        stopping = true;
        final long now = System.nanoTime();
        for (Peer p : peers) {
            if (p.frozen) {
                log(now, "SIGCONT %s (pid %d) before the stop", p.name, p.jvm.pid());
                thaw(p);
            }
        }
        log(now, "stop: asking %s to finish their step and exit", describeAlive());
        for (Peer p : peers) {
            if (p.alive()) {
                tell(p, "stop");
            }
        }
        final long deadline = now + TimeUnit.SECONDS.toNanos(exitTimeoutS);
        while (anyAlive()) {
            final long left = deadline - System.nanoTime();
            final Event e = left > 0 ? events.poll(left, TimeUnit.NANOSECONDS) : null;
            if (e == null) {
                failures.add("after stop, still running after " + exitTimeoutS + " s: " + describeAlive());
                return;
            }
            handle(e);
        }
    }

    /** Writes a line to a peer's standard input; a peer that already died reports its exit as an event. */
    private static void tell(final Peer p, final String line) {
        try {
            p.jvm.send(line);
        } catch (java.io.UncheckedIOException e) {
            // its end is (or will be) in the event queue
        }
    }

    private boolean anyAlive() {
        for (Peer p : peers) {
            if (p.alive()) {
                return true;
            }
        }
        return false;
    }

    private String describeAlive() {
        final List<String> names = new ArrayList<>();
        for (Peer p : peers) {
            if (p.alive()) {
                names.add(p.name + (p.established ? "" : p.frozen ? " (frozen)" : " (not stepping yet)"));
            }
        }
        return names.toString();
    }

    private Result report() {
        for (Map.Entry<Long, Map<String, String>> e : ledger.disagreements().entrySet()) {
            failures.add("parity: peers disagree at revision " + e.getKey() + ": " + e.getValue());
        }
        final int checked = ledger.revisionsAgreedByTwoOrMore();
        final List<Long> recoveryMs = kills.recoveryMs();
        Collections.sort(recoveryMs);
        int clean = 0;
        for (Peer p : peers) {
            if (p.exitedCleanly) {
                clean++;
            }
        }
        final Result r = new Result(spawned, kills.size(), startingKills, leaves, freezes.size(), kicks,
                masterRestarts.size(), reconnects, steps, maxRevision, checked, retries, skippedSteps,
                TimeUnit.NANOSECONDS.toMillis(longestGapNs), recoveryMs, masterRestarts.recoveryMs(), clean,
                optimizations, communicatorLives, failedAttempts, retryRounds, droppedFrames, List.copyOf(failures));
        System.out.printf(Locale.ROOT, "churn: %d peers started; SIGKILLed %d while stepping and %d before their "
                + "first step; %d left gracefully; %d frozen (%d kicks); master removed %d times (%d reconnects in "
                + "all); %d steps reported, revision %d; %d steps retried, %d skipped (group below two peers); %d "
                + "topology optimizations reported%n",
                r.spawns(), r.kills(), r.startingKills(), r.leaves(), r.freezes(), r.kicks(), r.masterRestarts(),
                r.reconnects(), r.steps(), r.maxRevision(), r.retries(), r.skippedSteps(), r.optimizations());
        System.out.printf(Locale.ROOT, "inside the communicators (the STATS of %d that ended without a SIGKILL): %d "
                + "all-reduce attempts failed, %d retry rounds in allReduceMultipleWithRetry, %d data frames "
                + "dropped%n", r.communicatorLives(), r.failedAttempts(), r.retryRounds(), r.droppedFrames());
        System.out.printf(Locale.ROOT, "longest gap between completed steps: %.2f s (limit %d s)%n",
                r.longestGapMs() / 1e3, stallTimeoutS);
        if (!recoveryMs.isEmpty()) {
            System.out.printf(Locale.ROOT, "after a SIGKILL, the survivors' next completed step: median %d ms, "
                    + "max %d ms (%d kills)%n", recoveryMs.get(recoveryMs.size() / 2),
                    recoveryMs.get(recoveryMs.size() - 1), recoveryMs.size());
        }
        final List<Long> restartMs = masterRestarts.recoveryMs();
        final List<Long> freezeMs = freezes.recoveryMs();
        if (!freezeMs.isEmpty()) {
            System.out.println("after each SIGSTOP, the next step completed by another peer (ms): " + freezeMs);
        }
        if (!restartMs.isEmpty()) {
            System.out.println("after each removal of the master " + masterRemovals
                    + ", the next completed step (ms): " + restartMs);
        }
        Collections.sort(firstStepMs);
        if (!firstStepMs.isEmpty()) {
            System.out.printf(Locale.ROOT, "from a peer JVM's start to its first completed step: median %d ms, "
                    + "max %d ms (%d peers)%n", firstStepMs.get(firstStepMs.size() / 2),
                    firstStepMs.get(firstStepMs.size() - 1), firstStepMs.size());
        }
        for (Map.Entry<Integer, double[]> e : ledger.throughputByWorld().entrySet()) {
            final double[] v = e.getValue();
            System.out.printf(Locale.ROOT, "all-reduce throughput at %d peers: median %.0f MB/s (%d steps)%n",
                    e.getKey(), v[v.length / 2], v.length);
        }
        System.out.println("parity: " + checked + " revisions reported by two or more peers, "
                + (failures.stream().anyMatch(f -> f.startsWith("parity")) ? "NOT all bit-identical"
                : "all bit-identical"));
        System.out.println("clean exits when asked to stop (leaves and the end): " + clean);
        if (r.passed()) {
            System.out.println("CHURN PASSED");
        } else {
            System.out.println("CHURN FAILED" + (r.steps() == 0 ? ": no step completed" : ""));
            for (String f : r.failures()) {
                System.out.println("  - " + f);
            }
        }
        return r;
    }

    private void log(final long now, final String format, final Object... args) {
        System.out.printf(Locale.ROOT, "[%7.2f s] %s%n", (now - t0) / 1e9, String.format(Locale.ROOT, format, args));
    }
}
