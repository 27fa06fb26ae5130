package io.pccl.master;

import io.pccl.master.state.MasterStateMachine;
import io.pccl.master.state.PeerPhase;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.LogThrottle;
import io.pccl.transport.PrometheusText;
import io.pccl.transport.tls.TlsConfig;

import java.time.Instant;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the master's metrics endpoint serves ({@link io.pccl.transport.MetricsEndpoint}), in the Prometheus text
 * format (version 0.0.4): counters of what the
 * master told its peers since it started, and gauges read from the state machine when scraped. Every name starts
 * with {@code pccl_master_}; {@code docs/operations.md} ("Metrics") lists them.
 *
 * <p>Counters are written, and the text is rendered, on the conductor thread only (the state machine lives there);
 * the connection and handshake counts it reads are thread-safe.
 */
final class MasterMetrics {
    private final long startNs;
    long registrations;
    long registrationsRefused;
    long kicks;
    long collectivesSucceeded;
    long collectivesFailed;
    long syncsSucceeded;
    long syncsFailed;
    long optimizationsSucceeded;
    long optimizationsFailed;

    /**
     * @param startNs the master's start, on the conductor's clock
     */
    MasterMetrics(final long startNs) {
        this.startNs = startNs;
    }

    /**
     * Renders every metric.
     *
     * @param machine the state machine (read only)
     * @param slots the master port's connection slots
     * @param handshakeFailures connections refused at a handshake (shared key, TLS)
     * @param tls the master's TLS configuration, or null
     * @param nowNs now, on the conductor's clock
     * @return the exposition text
     */
    String render(final MasterStateMachine machine, final ConnectionSlots slots, final LogThrottle handshakeFailures,
                  final TlsConfig tls, final long nowNs) {
        final PrometheusText out = new PrometheusText(2048);
        out.family("pccl_master_uptime_seconds", "gauge", "Seconds since the master started (time it ran).")
                .sample("pccl_master_uptime_seconds", (nowNs - startNs) / 1e9);
        out.gauge("pccl_master_connections", "Control connections open, registered or not.", slots.open());
        out.gauge("pccl_master_connections_limit", "Most control connections open at once (--max-connections).",
                slots.max());
        out.counter("pccl_master_connections_refused_total", "Connections refused at the connection limit.",
                slots.refused());
        out.counter("pccl_master_handshake_failures_total",
                "Connections refused at the shared-key or TLS handshake.", handshakeFailures.events());
        if (tls != null) {
            out.gauge("pccl_master_tls_certificate_expiry_timestamp_seconds",
                    "When the master's TLS certificate in use expires (Unix time).",
                    tls.certificateNotAfter().getEpochSecond());
            final Instant listDue = tls.revocationListNextUpdate();
            if (listDue != null) {
                out.gauge("pccl_master_tls_revocation_list_next_update_timestamp_seconds",
                        "When the master's TLS revocation list is due to be replaced (Unix time; --tls-crl).",
                        listDue.getEpochSecond());
            }
        }

        final Map<PeerPhase, Integer> phases = new EnumMap<>(PeerPhase.class);
        for (long id : machine.peerIds()) {
            phases.merge(machine.phaseOf(id), 1, Integer::sum);
        }
        out.family("pccl_master_peers", "gauge", "Registered peers by phase.");
        for (PeerPhase phase : PeerPhase.values()) {
            if (phase != PeerPhase.LEFT) {
                out.sample("pccl_master_peers", "phase", phase.name().toLowerCase(Locale.ROOT),
                        phases.getOrDefault(phase, 0));
            }
        }
        final var groups = machine.groupSummaries();
        out.family("pccl_master_group_peers", "gauge", "Registered peers per peer group.");
        for (MasterStateMachine.GroupSummary g : groups) {
            out.sample("pccl_master_group_peers", "group", Integer.toString(g.group()), g.peers());
        }
        out.family("pccl_master_group_accepted_peers", "gauge", "Peers accepted into the ring per peer group.");
        for (MasterStateMachine.GroupSummary g : groups) {
            out.sample("pccl_master_group_accepted_peers", "group", Integer.toString(g.group()), g.accepted());
        }
        out.family("pccl_master_group_expected_revision", "gauge",
                "Shared-state revision the group's next sync expects (absent while any revision is accepted).");
        for (MasterStateMachine.GroupSummary g : groups) {
            if (g.expectedRevision().isPresent()) {
                out.sample("pccl_master_group_expected_revision", "group", Integer.toString(g.group()),
                        Long.toUnsignedString(g.expectedRevision().getAsLong()));
            }
        }

        out.counter("pccl_master_registrations_total", "Peers registered.", registrations);
        out.counter("pccl_master_registrations_refused_total", "Registrations refused.", registrationsRefused);
        out.counter("pccl_master_kicks_total", "Peers kicked (heartbeat timeout, protocol violation, ...).", kicks);
        out.outcomes("pccl_master_collective_outcomes_total",
                "Collective operation outcomes sent to peers (one per peer and operation).", collectivesSucceeded,
                collectivesFailed);
        out.outcomes("pccl_master_sync_outcomes_total", "Shared-state sync outcomes sent to peers.", syncsSucceeded,
                syncsFailed);
        out.outcomes("pccl_master_optimize_outcomes_total", "Topology optimization outcomes sent to peers.",
                optimizationsSucceeded, optimizationsFailed);
        return out.toString();
    }
}
