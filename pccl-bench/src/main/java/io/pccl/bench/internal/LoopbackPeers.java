package io.pccl.bench.internal;

import io.pccl.Communicator;
import io.pccl.master.Master;

import java.time.Duration;

/**
 * Communicators for in-process benchmarks against an embedded master on loopback.
 *
 * <p>Thread-safe (stateless).
 */
public final class LoopbackPeers {
    private LoopbackPeers() {
    }

    /**
     * A communicator for {@code master} with an ephemeral peer port, one connection per neighbour and 30 s
     * connect and topology bounds. Not connected yet.
     *
     * @param master the embedded master, started
     * @return the communicator; the caller closes it
     */
    public static Communicator newPeer(final Master master) {
        return Communicator.builder().masterAddress("127.0.0.1:" + master.port()).peerBasePort(0)
                .connectionsPerPeer(1).connectTimeout(Duration.ofSeconds(30)).topologyTimeout(Duration.ofSeconds(30))
                .build();
    }
}
