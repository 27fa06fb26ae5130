package io.pccl;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A peer process for multi-process tests, driven over stdin one command per line; answers one line on stdout per
 * command: {@code OK <command> global=.. group=.. groups=.. largest=.. ring=[..] id=.. ms=..} or
 * {@code FAIL <command> <code> <message>}.
 *
 * <pre>
 *   java -cp ... io.pccl.ScriptedPeerMain MASTER_HOST:PORT BIND_HOST [GROUP [PEER_PORT]]
 *   stdin: connect | update | pending | optimize | quit
 * </pre>
 *
 * <p>Not thread-safe: runs on its main thread.
 */
public final class ScriptedPeerMain {
    private ScriptedPeerMain() {
    }

    /**
     * Runs the peer.
     *
     * @param args master address, bind host, optional peer group and peer port (default: ephemeral)
     * @throws IOException if stdin fails
     */
    public static void main(final String[] args) throws IOException {
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        final int group = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        final int peerPort = args.length > 3 ? Integer.parseInt(args[3]) : 0;
        try (Communicator comm = Communicator.builder().masterAddress(args[0]).bindHost(args[1]).peerBasePort(peerPort)
                .peerGroup(group).connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(60))
                .topologyTimeout(Duration.ofSeconds(60)).heartbeatInterval(Duration.ofMillis(250))
                .heartbeatTimeout(Duration.ofSeconds(2)).benchmarkDuration(Duration.ofMillis(500)).build()) {
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            out.println("READY");
            String line;
            while ((line = in.readLine()) != null) {
                final String command = line.trim();
                if ("quit".equals(command)) {
                    break;
                }
                final long start = System.nanoTime();
                try {
                    String extra = "";
                    switch (command) {
                        case "connect":
                            comm.connect();
                            break;
                        case "update":
                            comm.updateTopology();
                            break;
                        case "pending":
                            extra = " pending=" + comm.arePeersPending();
                            break;
                        case "optimize":
                            comm.optimizeTopology();
                            break;
                        default:
                            out.println("FAIL " + command + " INVALID_ARGUMENT unknown command");
                            continue;
                    }
                    out.println("OK " + command + " global=" + comm.globalWorldSize() + " group="
                            + comm.peerGroupWorldSize() + " groups=" + comm.numPeerGroups() + " largest="
                            + comm.largestPeerGroupWorldSize() + " ring=" + comm.ring() + " id=" + comm.peerId()
                            + extra + " ms=" + (System.nanoTime() - start) / 1_000_000L);
                } catch (PcclException e) {
                    out.println("FAIL " + command + " " + e.code() + " " + e.getMessage());
                }
            }
        }
    }
}
