package io.pccl;

import io.netty.channel.Channel;
import io.pccl.SyncCluster.Outcome;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * 256 MiB shared states through a real master: a joining peer receives the state; a distributor in a separate JVM
 * is killed with SIGKILL in the middle of a transfer (the receiver fails over to the other holder, or, with no
 * other holder, fails in bounded time with a retryable error). Content seeds are fixed and printed.
 */
@Tag("slow")
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SharedStateLargeSystemTest {
    private static final Logger LOG = LoggerFactory.getLogger(SharedStateLargeSystemTest.class);
    private static final int SIZE = 256 << 20;
    private static final long SEED = 0x5eed_2026L;
    private static final long PAUSE_AT = 64L << 20;
    private static final long STEP_MS = 60_000;
    private static final Pattern GROUP = Pattern.compile(" group=(\\d+)");
    private static final Pattern PORT = Pattern.compile(" port=(\\d+)");

    private SyncCluster cluster;
    private final List<ChildProcess> children = new ArrayList<>();

    @BeforeEach
    void start() {
        cluster = new SyncCluster();
        LOG.info("content seed {}", SEED);
    }

    @AfterEach
    void stop() {
        for (final ChildProcess c : children) {
            c.close();
        }
        cluster.close();
    }

    private static ByteBuffer content(final long seed) {
        final ByteBuffer b = ByteBuffer.allocateDirect(SIZE);
        SharedStateHolderMain.fill(b, seed);
        return b;
    }

    private static SharedState state(final long revision, final ByteBuffer buffer) {
        return SharedState.builder().revision(revision).entry("weights", buffer, DataType.UINT8, SIZE).build();
    }

    @Test
    void joiningPeerReceives256MiBAndVerifiesIt() throws Exception {
        final List<Communicator> g = cluster.group(0, 1);
        final ByteBuffer a = content(SEED);
        final SharedState sa = state(0, a);
        assertEquals(new SyncInfo(0, 0, 0, List.of()), g.get(0).syncSharedState(sa, SyncStrategy.ENFORCE_POPULAR));
        sa.incrementRevision();
        cluster.join(g, cluster.newPeer(0));
        final ByteBuffer b = ByteBuffer.allocateDirect(SIZE);
        final SharedState sb = state(0, b);
        final long start = System.nanoTime();
        final List<Outcome> r = cluster.syncAll(g, List.of(sa, sb));
        final double seconds = (System.nanoTime() - start) / 1e9;
        r.get(0).assertBytes("holder", SIZE, 0);
        r.get(1).assertBytes("joiner", 0, SIZE);
        assertEquals(List.of("weights"), r.get(1).info().receivedKeys());
        assertEquals(1, sb.revision());
        assertEquals(-1, a.duplicate().clear().mismatch(b.duplicate().clear()), "joiner's content differs");
        final String figure = String.format("256 MiB join: sync %.3f s, %.1f MB/s (incl. hashing on every peer and"
                + " verification)", seconds, SIZE / 1e6 / seconds);
        System.out.println(figure);
        LOG.info(figure);
    }

    @Test
    void distributorKilledMidTransferReceiverFailsOverToTheOtherHolder() throws Exception {
        final HolderKilled k = killHolderMidTransfer("h1", Integer.MAX_VALUE);
        final SyncInfo info = k.rSync.get(STEP_MS, TimeUnit.MILLISECONDS);
        final double afterKillS = (System.nanoTime() - k.killedNs) / 1e9;
        assertEquals(SIZE, info.rxBytes());
        assertEquals(0, info.revision());
        assertEquals(SIZE, k.h2Sync.get(STEP_MS, TimeUnit.MILLISECONDS).txBytes());
        assertEquals(-1, k.h2Content.duplicate().clear().mismatch(k.mine.duplicate().clear()));
        System.out.printf("distributor killed at %d MiB: receiver failed over and finished %.3f s after the kill%n",
                PAUSE_AT >> 20, afterKillS);
        assertTrue(afterKillS < 30, "fail-over took " + afterKillS + " s");

        final List<Communicator> survivors = List.of(k.h2, k.receiver);
        cluster.updateTopology(survivors);
        assertEquals(2, k.receiver.peerGroupWorldSize());
        k.h2State.incrementRevision();
        k.mineState.incrementRevision();
        final List<Outcome> next = cluster.syncAll(survivors, List.of(k.h2State, k.mineState));
        next.get(0).assertBytes("holder", 0, 0);
        next.get(1).assertBytes("receiver", 0, 0);
    }

    /**
     * The acceptance scenario as worded in the shared-state issue: with fail-over within the call switched off,
     * the receiver's sync fails (retryable) when its distributor is killed mid-transfer, and after
     * {@code updateTopology()} the retry fetches from the other holder and verifies.
     */
    @Test
    void distributorKilledMidTransferFailsTheSyncAndTheRetryAfterUpdateTopologySucceedsFromTheOtherHolder()
            throws Exception {
        final HolderKilled k = killHolderMidTransfer("h1-nofailover", 1);
        final ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> k.rSync.get(STEP_MS, TimeUnit.MILLISECONDS));
        final double afterKillS = (System.nanoTime() - k.killedNs) / 1e9;
        final SharedStateSyncException failure = assertInstanceOf(SharedStateSyncException.class, e.getCause());
        assertTrue(failure.isRetryable(), failure.toString());
        assertTrue(afterKillS < 30, "failure took " + afterKillS + " s");
        // the holder's own call ends in bounded time too; the group's sync failed for one participant, so it
        // may report that failure (retryable) rather than success
        try {
            k.h2Sync.get(STEP_MS, TimeUnit.MILLISECONDS);
        } catch (final ExecutionException holderFailure) {
            final PcclException cause = assertInstanceOf(PcclException.class, holderFailure.getCause());
            assertTrue(cause.isRetryable(), cause.toString());
        }
        System.out.printf("distributor killed at %d MiB, no fail-over: receiver's sync failed %.3f s after the kill%n",
                PAUSE_AT >> 20, afterKillS);

        final List<Communicator> survivors = List.of(k.h2, k.receiver);
        cluster.updateTopology(survivors);
        assertEquals(2, k.receiver.peerGroupWorldSize());
        final List<Outcome> retry = cluster.syncAll(survivors, List.of(k.h2State, k.mineState));
        retry.get(0).assertBytes("holder", SIZE, 0);
        retry.get(1).assertBytes("receiver", 0, SIZE);
        assertEquals(-1, k.h2Content.duplicate().clear().mismatch(k.mine.duplicate().clear()),
                "the receiver's content verifies against the other holder's");
    }

    @Test
    void soleDistributorKilledMidTransferFailsTheSyncRetryablyInBoundedTime() throws Exception {
        final ChildProcess h1 = holder("sole");
        final int h1Port = port(command(h1, "connect"));
        final Communicator receiver = cluster.newPeer(0);
        joinWithChild(h1, new ArrayList<>(), receiver, 2);
        final PausingObserver observer = new PausingObserver();
        receiver.sharedStateSync().fetchObserver(observer::onBytes);
        final SharedState mine = state(0, ByteBuffer.allocateDirect(SIZE));
        h1.send("sync");
        final Future<SyncInfo> rSync = cluster.async(() -> receiver.syncSharedState(mine,
                SyncStrategy.ENFORCE_POPULAR));
        assertTrue(observer.paused.await(STEP_MS, TimeUnit.MILLISECONDS), "transfer never reached 64 MiB");
        assertEquals(h1Port, ((InetSocketAddress) observer.distributor.get()).getPort());
        h1.close();
        final long killed = System.nanoTime();
        observer.channel.get().config().setAutoRead(true);
        final ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> rSync.get(STEP_MS, TimeUnit.MILLISECONDS));
        final double afterKillS = (System.nanoTime() - killed) / 1e9;
        final SharedStateSyncException failure = assertInstanceOf(SharedStateSyncException.class, e.getCause());
        assertEquals(PcclException.Code.SHARED_STATE_FAILED, failure.code());
        assertTrue(failure.isRetryable());
        assertTrue(failure.getMessage().contains("closed the connection"), failure.getMessage());
        assertEquals(0, mine.revision());
        System.out.printf("sole distributor killed: receiver's sync failed %.3f s after the kill: %s%n", afterKillS,
                failure.getMessage());
        assertTrue(afterKillS < 30, "failure took " + afterKillS + " s");

        receiver.updateTopology();
        assertEquals(1, receiver.peerGroupWorldSize());
        assertEquals(new SyncInfo(0, 0, 0, List.of()), receiver.syncSharedState(mine, SyncStrategy.ENFORCE_POPULAR));
    }

    @Test
    void closingTheReceiverMidFetchEndsItsSyncAtOnce() throws Exception {
        final List<Communicator> peers = cluster.group(0, 2);
        final Communicator holder = peers.get(0);
        final Communicator receiver = peers.get(1);
        final PausingObserver observer = new PausingObserver();
        receiver.sharedStateSync().fetchObserver(observer::onBytes);
        final SharedState held = state(0, content(SEED));
        final SharedState mine = state(0, ByteBuffer.allocateDirect(SIZE));
        final Future<SyncInfo> hSync = cluster.async(() -> holder.syncSharedState(held, SyncStrategy.SEND_ONLY));
        final Future<SyncInfo> rSync = cluster.async(() -> receiver.syncSharedState(mine, SyncStrategy.RECEIVE_ONLY));
        assertTrue(observer.paused.await(STEP_MS, TimeUnit.MILLISECONDS), "transfer never reached 64 MiB");
        final long t0 = System.nanoTime();
        receiver.close();
        final ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> rSync.get(STEP_MS, TimeUnit.MILLISECONDS));
        final long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertInstanceOf(PcclException.class, e.getCause());
        // the paused fetch would otherwise wait for the 10-minute completion timeout
        assertTrue(tookMs < 5_000, "the sync ended " + tookMs + " ms after close()");
        try {
            hSync.get(STEP_MS, TimeUnit.MILLISECONDS);
        } catch (final ExecutionException holderFailure) {
            assertInstanceOf(PcclException.class, holderFailure.getCause());
        }
    }

    /** Two holders (one in a child JVM) and a receiver; the child is SIGKILLed while serving the receiver. */
    private static final class HolderKilled {
        Communicator h2;
        Communicator receiver;
        ByteBuffer h2Content;
        ByteBuffer mine;
        SharedState h2State;
        SharedState mineState;
        Future<SyncInfo> h2Sync;
        Future<SyncInfo> rSync;
        long killedNs;
    }

    /**
     * Joins a holder in a child JVM, a holder in this JVM and a receiver (whose fetch tries at most
     * {@code maxDistributors} distributors), starts a sync of all three, and SIGKILLs the child once the receiver
     * has fetched {@link #PAUSE_AT} bytes from it.
     */
    private HolderKilled killHolderMidTransfer(final String childName, final int maxDistributors)
            throws Exception {
        final HolderKilled k = new HolderKilled();
        final ChildProcess h1 = holder(childName);
        final int h1Port = port(command(h1, "connect"));
        k.h2 = cluster.newPeer(0);
        final List<Communicator> members = new ArrayList<>();
        joinWithChild(h1, members, k.h2, 2);
        k.receiver = cluster.newPeer(0);
        joinWithChild(h1, members, k.receiver, 3);
        k.receiver.sharedStateSync().maxDistributorsPerFetch(maxDistributors);
        final PausingObserver observer = new PausingObserver();
        k.receiver.sharedStateSync().fetchObserver(observer::onBytes);
        k.h2Content = content(SEED);
        k.mine = ByteBuffer.allocateDirect(SIZE);
        k.h2State = state(0, k.h2Content);
        k.mineState = state(0, k.mine);
        h1.send("sync");
        k.h2Sync = cluster.async(() -> k.h2.syncSharedState(k.h2State, SyncStrategy.ENFORCE_POPULAR));
        k.rSync = cluster.async(() -> k.receiver.syncSharedState(k.mineState, SyncStrategy.ENFORCE_POPULAR));
        assertTrue(observer.paused.await(STEP_MS, TimeUnit.MILLISECONDS), "transfer never reached 64 MiB");
        assertEquals(h1Port, ((InetSocketAddress) observer.distributor.get()).getPort(),
                "the receiver's first distributor is the holder in the child JVM");
        h1.close();
        k.killedNs = System.nanoTime();
        observer.channel.get().config().setAutoRead(true);
        return k;
    }

    /** Pauses reading on the first fetch connection that passed {@link #PAUSE_AT} bytes. Thread-safe. */
    private static final class PausingObserver {
        final CountDownLatch paused = new CountDownLatch(1);
        final AtomicReference<Channel> channel = new AtomicReference<>();
        final AtomicReference<SocketAddress> distributor = new AtomicReference<>();

        void onBytes(final Channel ch, final SocketAddress from, final long received, final long expected) {
            if (received >= PAUSE_AT && received < expected && channel.compareAndSet(null, ch)) {
                ch.config().setAutoRead(false);
                distributor.set(from);
                paused.countDown();
            }
        }
    }

    private ChildProcess holder(final String name) throws IOException, InterruptedException {
        final String cp = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        final List<String> cmd = List.of(System.getProperty("java.home") + "/bin/java", "-Xmx256m",
                "-XX:MaxDirectMemorySize=512m", "-XX:TieredStopAtLevel=1", "-cp", cp,
                SharedStateHolderMain.class.getName(), SyncCluster.LOOPBACK + ":" + cluster.master().port(),
                SyncCluster.LOOPBACK, Integer.toString(SIZE), Long.toString(SEED));
        final File log = new File("target", "holder-" + name + ".log");
        final ChildProcess child = new ChildProcess(name, cmd, log);
        children.add(child);
        child.await("READY"::equals, STEP_MS, "READY");
        return child;
    }

    private static String command(final ChildProcess child, final String command) throws Exception {
        child.send(command);
        final String line = child.await(l -> l.startsWith("OK " + command) || l.startsWith("FAIL " + command),
                STEP_MS, command + " result");
        assertTrue(line.startsWith("OK "), line);
        return line;
    }

    private static int port(final String line) {
        final Matcher m = PORT.matcher(line);
        assertTrue(m.find(), line);
        return Integer.parseInt(m.group(1));
    }

    /** Like {@link SyncCluster#join}, with the child process among the accepted peers. */
    private void joinWithChild(final ChildProcess child, final List<Communicator> members,
                               final Communicator newcomer, final int size) throws Exception {
        final List<Future<?>> calls = new ArrayList<>();
        calls.add(cluster.async(() -> {
            newcomer.connect();
            return null;
        }));
        for (final Communicator c : members) {
            calls.add(cluster.async(() -> {
                while (c.peerGroupWorldSize() < size) {
                    if (c.arePeersPending()) {
                        c.updateTopology();
                    }
                }
                return null;
            }));
        }
        int childGroup = 0;
        while (childGroup < size) {
            String line = command(child, "pending");
            if (line.contains("pending=true")) {
                line = command(child, "update");
            }
            final Matcher m = GROUP.matcher(line);
            assertTrue(m.find(), line);
            childGroup = Integer.parseInt(m.group(1));
        }
        for (final Future<?> f : calls) {
            assertNotNull(f);
            f.get(STEP_MS, TimeUnit.MILLISECONDS);
        }
        members.add(newcomer);
    }
}
