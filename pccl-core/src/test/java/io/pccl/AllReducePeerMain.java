package io.pccl;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A peer process for all-reduce fault tests (it gets killed with SIGKILL), driven over stdin:
 *
 * <pre>
 *   java -cp ... io.pccl.AllReducePeerMain MASTER_HOST:PORT BIND_HOST
 *   stdin: connect | reduce TAG COUNT | quit
 *   stdout: READY, then OK/FAIL per command
 * </pre>
 * {@code reduce} runs an in-place float32 SUM all-reduce of {@code COUNT} elements (all 1.0).
 *
 * <p>Not thread-safe: runs on its main thread.
 */
public final class AllReducePeerMain {
    private AllReducePeerMain() {
    }

    /**
     * Runs the peer.
     *
     * @param args master address, bind host
     * @throws IOException if stdin fails
     */
    public static void main(final String[] args) throws IOException {
        final PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        try (Communicator comm = Communicator.builder().masterAddress(args[0]).bindHost(args[1]).peerBasePort(0)
                .connectionsPerPeer(2).connectTimeout(Duration.ofSeconds(60)).topologyTimeout(Duration.ofSeconds(60))
                .heartbeatInterval(Duration.ofMillis(200)).heartbeatTimeout(Duration.ofSeconds(3)).build()) {
            final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            out.println("READY");
            String line;
            while ((line = in.readLine()) != null) {
                final String[] cmd = line.trim().split(" ");
                if ("quit".equals(cmd[0])) {
                    break;
                }
                try {
                    if ("connect".equals(cmd[0])) {
                        comm.connect();
                        out.println("OK connect id=" + comm.peerId());
                    } else if ("reduce".equals(cmd[0])) {
                        final int count = Integer.parseInt(cmd[2]);
                        final ByteBuffer b = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < count; i++) {
                            b.putFloat(i * 4, 1.0f);
                        }
                        out.println("LAUNCHED reduce");
                        final ReduceInfo info = comm.allReduce(b, b, ReduceDescriptor.of(count, DataType.FLOAT32,
                                ReduceOp.SUM).tag(Long.parseLong(cmd[1])));
                        out.println("OK reduce world=" + info.worldSize());
                    } else {
                        out.println("FAIL " + cmd[0] + " unknown command");
                    }
                } catch (PcclException e) {
                    out.println("FAIL " + cmd[0] + " " + e.code() + " " + e.getMessage());
                }
            }
        }
    }
}
