package io.pccl;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Master and three peers in four network namespaces joined by a bridge (separate hosts as far as TCP is
 * concerned). All three join; then peer 3's cable is pulled at the bridge (no FIN, no RST): the master must drop it
 * within its heartbeat timeout + 2 s, and the survivors' next {@code updateTopology()} must succeed with world
 * size 2. Skips only where network namespaces cannot be created.
 */
@Tag("slow")
@Timeout(value = 180, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MultiHostNetnsTest {
    private static final Logger LOG = LoggerFactory.getLogger(MultiHostNetnsTest.class);
    private static final long MASTER_HEARTBEAT_TIMEOUT_MS = 2_000;
    private static final long STEP_MS = 60_000;
    /** Every peer listens on this port (each in its own namespace). */
    private static final int PEER_PORT = 47_000;
    private static final Pattern WORLD = Pattern.compile("global=(\\d+) group=(\\d+)");

    private static final Pattern ID = Pattern.compile(" id=(\\d+)");
    private static final Pattern RING = Pattern.compile(" ring=\\[([0-9, ]*)]");

    private NetnsNetwork network;
    private final List<ChildProcess> children = new ArrayList<>();

    @BeforeEach
    void createNetwork() {
        final String prefix = "pccl" + (ProcessHandle.current().pid() % 100_000) + "x";
        try {
            network = new NetnsNetwork(prefix, 4);
        } catch (IOException e) {
            LOG.warn("skipping multi-host test: cannot create network namespaces: {}", e.getMessage());
            Assumptions.assumeTrue(false, "network namespaces unavailable: " + e.getMessage());
        }
    }

    @AfterEach
    void cleanUp() {
        for (ChildProcess c : children) {
            c.close();
        }
        if (network != null) {
            network.close();
        }
    }

    private static String classpath() {
        final String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isEmpty() ? surefire : System.getProperty("java.class.path");
    }

    private ChildProcess java(final int node, final String name, final String... mainAndArgs)
            throws IOException {
        final List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java",
                "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", classpath()));
        cmd.addAll(List.of(mainAndArgs));
        final File log = new File("target", "netns-" + name + ".log");
        final ChildProcess child = new ChildProcess(name, network.inNamespace(node, cmd), log);
        children.add(child);
        LOG.info("started {} in namespace {} (stderr: {})", name, network.namespace(node), log.getAbsolutePath());
        return child;
    }

    private static String ok(final ChildProcess p, final String command, final String name)
            throws InterruptedException {
        final String line = p.await(l -> l.startsWith("OK " + command) || l.startsWith("FAIL " + command), STEP_MS,
                command + " result");
        assertTrue(line.startsWith("OK "), name + ": " + line);
        return line;
    }

    private static void assertWorld(final String line, final int global, final int group) {
        final Matcher m = WORLD.matcher(line);
        assertTrue(m.find(), line);
        assertTrue(Integer.parseInt(m.group(1)) == global && Integer.parseInt(m.group(2)) == group,
                "expected global=" + global + " group=" + group + " in: " + line);
    }

    /** Starts the master in node 0 and peers 1..3 in nodes 1..3, joined one by one; returns the peers. */
    private List<ChildProcess> masterAndThreePeers() throws Exception {
        final String masterHost = NetnsNetwork.address(0);
        final ChildProcess masterProc = java(0, "master",
                MasterFixture.mainArgs(masterHost, MASTER_HEARTBEAT_TIMEOUT_MS));
        final int port = MasterFixture.awaitPort(masterProc, STEP_MS);
        final String masterAddress = masterHost + ":" + port;
        LOG.info("master listening at {}", masterAddress);

        final List<ChildProcess> peers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            final ChildProcess p = java(i, "peer" + i, ScriptedPeerMain.class.getName(), masterAddress,
                    NetnsNetwork.address(i), "0", String.valueOf(PEER_PORT));
            p.await("READY"::equals, STEP_MS, "READY");
            p.send("connect");
            if (i > 1) {
                // Joint pending query of the accepted peers until the newcomer is registered, then a joint update.
                boolean pending = false;
                while (!pending) {
                    for (ChildProcess existing : peers) {
                        existing.send("pending");
                    }
                    for (ChildProcess existing : peers) {
                        pending = ok(existing, "pending", "existing peer").contains("pending=true");
                    }
                }
                for (ChildProcess existing : peers) {
                    existing.send("update");
                }
                for (ChildProcess existing : peers) {
                    assertWorld(ok(existing, "update", "existing peer"), i, i);
                }
            }
            assertWorld(ok(p, "connect", "peer" + i), i, i);
            peers.add(p);
        }
        return peers;
    }

    @Test
    void threeHostsJoinAndAnUnpluggedHostIsDroppedWithinTheHeartbeatTimeout() throws Exception {
        final List<ChildProcess> peers = masterAndThreePeers();
        network.unplug(3);
        final long unpluggedAt = System.nanoTime();
        peers.get(0).send("update");
        peers.get(1).send("update");
        final String first = ok(peers.get(0), "update", "peer1");
        final String second = ok(peers.get(1), "update", "peer2");
        final long tookMs = (System.nanoTime() - unpluggedAt) / 1_000_000L;
        LOG.info("survivors re-established {} ms after the unplug: {} | {}", tookMs, first, second);
        assertWorld(first, 2, 2);
        assertWorld(second, 2, 2);
        assertTrue(tookMs <= MASTER_HEARTBEAT_TIMEOUT_MS + 2_000, "survivors' update took " + tookMs
                + " ms, bound is heartbeat timeout " + MASTER_HEARTBEAT_TIMEOUT_MS + " ms + 2000 ms");
    }

    /**
     * Node 1 can send to node 2's peer port at only 20 Mbit/s; every other direction is unlimited. Ascending order
     * (1, 2, 3) would run the ring over that link, so the optimized ring must be 1 -> 3 -> 2 -> 1, on every peer.
     */
    @Test
    void anOptimizedRingAvoidsAThrottledLink() throws Exception {
        final List<ChildProcess> peers = masterAndThreePeers();
        final long[] ids = new long[4];
        for (int i = 1; i <= 3; i++) {
            peers.get(i - 1).send("update");
        }
        for (int i = 1; i <= 3; i++) {
            final Matcher m = ID.matcher(ok(peers.get(i - 1), "update", "peer" + i));
            assertTrue(m.find());
            ids[i] = Long.parseLong(m.group(1));
        }
        try {
            network.throttle(1, 2, PEER_PORT, "20mbit");
        } catch (IOException e) {
            LOG.warn("skipping the throttled-link test: tc htb unavailable: {}", e.getMessage());
            Assumptions.abort("tc htb unavailable: " + e.getMessage());
        }
        for (final ChildProcess p : peers) {
            p.send("optimize");
        }
        final String expected = ids[1] + ", " + ids[3] + ", " + ids[2];
        for (int i = 1; i <= 3; i++) {
            final String line = ok(peers.get(i - 1), "optimize", "peer" + i);
            LOG.info("peer{}: {}", i, line);
            final Matcher ring = RING.matcher(line);
            assertTrue(ring.find(), line);
            assertEquals(expected, ring.group(1), "peer" + i + " (ids " + Arrays.toString(ids) + "): " + line);
        }
    }
}
