package io.pccl.internal.client;

import io.pccl.CommunicatorStats;
import io.pccl.transport.PrometheusText;

import java.time.Instant;

/**
 * What a peer's metrics endpoint serves ({@link io.pccl.transport.MetricsEndpoint}): a
 * {@link CommunicatorStats} snapshot in the Prometheus text format. Every name starts with {@code pccl_peer_};
 * {@code docs/operations.md} ("Metrics") lists them.
 *
 * <p>Stateless; thread-safe.
 */
public final class PeerMetrics {
    private PeerMetrics() {
    }

    /**
     * Renders one snapshot.
     *
     * @param s the snapshot
     * @param peerId the id the master assigned, or -1 when not connected
     * @param group the peer group
     * @param tlsNotAfter when the peer's TLS certificate in use expires, or null without TLS
     * @param tlsListDue when the peer's TLS revocation list is due to be replaced, or null without one
     * @return the exposition text
     */
    public static String render(final CommunicatorStats s, final long peerId, final int group,
                                final Instant tlsNotAfter, final Instant tlsListDue) {
        final PrometheusText out = new PrometheusText(2048);
        out.family("pccl_peer_info", "gauge", "The peer's id (absent until connected) and group; the value is 1.");
        if (peerId >= 0) {
            out.sample("pccl_peer_info", "peer_id", Long.toString(peerId), 1);
        }
        out.gauge("pccl_peer_group", "The peer group this peer joins.", group);
        out.gauge("pccl_peer_group_world_size", "Accepted peers in this peer's group at the last topology update.",
                s.peerGroupWorldSize());
        out.gauge("pccl_peer_allreduces_in_flight", "All-reduces launched and not completed.",
                s.allReducesInFlight());
        out.outcomes("pccl_peer_allreduces_total", "All-reduces completed, by result.", s.allReducesSucceeded(),
                s.allReducesFailed());
        out.counter("pccl_peer_allreduce_sent_bytes_total", "Payload bytes sent by successful all-reduces.",
                s.allReduceTxBytes());
        out.counter("pccl_peer_allreduce_received_bytes_total", "Payload bytes received by successful all-reduces.",
                s.allReduceRxBytes());
        out.counter("pccl_peer_allreduce_retry_rounds_total",
                "Ring re-establishments by allReduceMultipleWithRetry after a failed attempt.",
                s.allReduceRetryRounds());
        out.counter("pccl_peer_dropped_frames_total",
                "Data frames dropped on arrival (operation finished or unknown here, or over the parking limit).",
                s.droppedFrames());
        out.counter("pccl_peer_dropped_bytes_total", "Bytes of the dropped data frames.", s.droppedBytes());
        out.outcomes("pccl_peer_syncs_total", "Shared-state syncs, by result.", s.syncsSucceeded(), s.syncsFailed());
        out.counter("pccl_peer_sync_sent_bytes_total", "Entry bytes served by successful syncs.", s.syncTxBytes());
        out.counter("pccl_peer_sync_received_bytes_total", "Entry bytes received by successful syncs.",
                s.syncRxBytes());
        out.gauge("pccl_peer_shared_state_revision", "Revision after the last successful sync (-1 before the first).",
                s.sharedStateRevision());
        out.outcomes("pccl_peer_topology_updates_total", "updateTopology() calls, by result.",
                s.topologyUpdatesSucceeded(), s.topologyUpdatesFailed());
        out.outcomes("pccl_peer_optimizations_total", "optimizeTopology() calls, by result.",
                s.optimizationsSucceeded(), s.optimizationsFailed());
        if (tlsNotAfter != null) {
            out.gauge("pccl_peer_tls_certificate_expiry_timestamp_seconds",
                    "When the peer's TLS certificate in use expires (Unix time).", tlsNotAfter.getEpochSecond());
        }
        if (tlsListDue != null) {
            out.gauge("pccl_peer_tls_revocation_list_next_update_timestamp_seconds",
                    "When the peer's TLS revocation list is due to be replaced (Unix time).",
                    tlsListDue.getEpochSecond());
        }
        return out.toString();
    }
}
