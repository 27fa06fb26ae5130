package io.pccl;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * A peer process holding a large shared state, for fault tests that kill a distributor with SIGKILL. Driven over
 * stdin one command per line; answers one line per command on stdout:
 * {@code OK <command> group=<size> port=<listen port> ...} or {@code FAIL <command> <code> <message>}.
 *
 * <pre>
 *   java -cp ... io.pccl.SharedStateHolderMain MASTER_HOST:PORT BIND_HOST SIZE_BYTES SEED
 *   stdin: connect | update | pending | sync | quit      (sync: ENFORCE_POPULAR at the state's revision)
 * </pre>
 *
 * <p>Not thread-safe: runs on its main thread.
 */
public final class SharedStateHolderMain {
    private SharedStateHolderMain() {
    }

    /**
     * Fills {@code buffer} (from 0 to its capacity) with pseudo-random bytes of {@code seed}.
     *
     * @param buffer the buffer, capacity a multiple of 8
     * @param seed the seed
     */
    static void fill(final ByteBuffer buffer, final long seed) {
        final SplittableRandom random = new SplittableRandom(seed);
        final ByteBuffer b = buffer.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        b.clear();
        while (b.remaining() >= Long.BYTES) {
            b.putLong(random.nextLong());
        }
    }

    /**
     * Runs the peer.
     *
     * @param args master address, bind host, entry size in bytes, content seed
     * @throws IOException if stdin fails
     */
    public static void main(final String[] args) throws IOException {
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        final int size = Integer.parseInt(args[2]);
        final ByteBuffer content = ByteBuffer.allocateDirect(size);
        fill(content, Long.parseLong(args[3]));
        final SharedState state = SharedState.builder().entry("weights", content, DataType.UINT8, size).build();
        try (Communicator comm = Communicator.builder().masterAddress(args[0]).bindHost(args[1]).peerBasePort(0)
                .connectionsPerPeer(1).connectTimeout(Duration.ofSeconds(60)).topologyTimeout(Duration.ofSeconds(60))
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3)).build()) {
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            out.println("READY");
            String line;
            while ((line = in.readLine()) != null) {
                final String command = line.trim();
                if ("quit".equals(command)) {
                    break;
                }
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
                        case "sync":
                            final SyncInfo info = comm.syncSharedState(state, SyncStrategy.ENFORCE_POPULAR);
                            extra = " tx=" + info.txBytes() + " rx=" + info.rxBytes() + " rev=" + info.revision();
                            break;
                        default:
                            out.println("FAIL " + command + " INVALID_ARGUMENT unknown command");
                            continue;
                    }
                    out.println("OK " + command + " group=" + comm.peerGroupWorldSize() + " port="
                            + comm.session().listenPort() + " id=" + comm.peerId() + extra);
                } catch (PcclException e) {
                    out.println("FAIL " + command + " " + e.code() + " " + e.getMessage());
                }
            }
        }
    }
}
