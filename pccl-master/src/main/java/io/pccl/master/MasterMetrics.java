package io.pccl.master;

import io.pccl.master.state.MasterStateMachine;
import io.pccl.master.state.PeerPhase;
import io.pccl.transport.ConnectionSlots;
import io.pccl.transport.LogThrottle;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

/**
 * What the master's metrics endpoint serves, in the Prometheus text format (version 0.0.4): counters of what the
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
     * @param nowNs now, on the conductor's clock
     * @return the exposition text
     */
    String render(final MasterStateMachine machine, final ConnectionSlots slots, final LogThrottle handshakeFailures,
                  final long nowNs) {
        final StringBuilder out = new StringBuilder(2048);
        gauge(out, "pccl_master_uptime_seconds", "Seconds since the master started (time it ran).",
                String.format(Locale.ROOT, "%.3f", (nowNs - startNs) / 1e9));
        gauge(out, "pccl_master_connections", "Control connections open, registered or not.",
                Integer.toString(slots.open()));
        gauge(out, "pccl_master_connections_limit", "Most control connections open at once (--max-connections).",
                Integer.toString(slots.max()));
        counter(out, "pccl_master_connections_refused_total", "Connections refused at the connection limit.",
                slots.refused());
        counter(out, "pccl_master_handshake_failures_total",
                "Connections refused at the shared-key or TLS handshake.", handshakeFailures.events());

        final Map<PeerPhase, Integer> phases = new EnumMap<>(PeerPhase.class);
        for (long id : machine.peerIds()) {
            phases.merge(machine.phaseOf(id), 1, Integer::sum);
        }
        help(out, "pccl_master_peers", "gauge", "Registered peers by phase.");
        for (PeerPhase phase : PeerPhase.values()) {
            if (phase != PeerPhase.LEFT) {
                out.append("pccl_master_peers{phase=\"").append(phase.name().toLowerCase(Locale.ROOT)).append("\"} ")
                        .append(phases.getOrDefault(phase, 0)).append('\n');
            }
        }
        help(out, "pccl_master_group_peers", "gauge", "Registered peers per peer group.");
        final var groups = machine.groupSummaries();
        for (MasterStateMachine.GroupSummary g : groups) {
            out.append("pccl_master_group_peers{group=\"").append(g.group()).append("\"} ").append(g.peers())
                    .append('\n');
        }
        help(out, "pccl_master_group_accepted_peers", "gauge", "Peers accepted into the ring per peer group.");
        for (MasterStateMachine.GroupSummary g : groups) {
            out.append("pccl_master_group_accepted_peers{group=\"").append(g.group()).append("\"} ")
                    .append(g.accepted()).append('\n');
        }
        help(out, "pccl_master_group_expected_revision", "gauge",
                "Shared-state revision the group's next sync expects (absent while any revision is accepted).");
        for (MasterStateMachine.GroupSummary g : groups) {
            if (g.expectedRevision().isPresent()) {
                out.append("pccl_master_group_expected_revision{group=\"").append(g.group()).append("\"} ")
                        .append(Long.toUnsignedString(g.expectedRevision().getAsLong())).append('\n');
            }
        }

        counter(out, "pccl_master_registrations_total", "Peers registered.", registrations);
        counter(out, "pccl_master_registrations_refused_total", "Registrations refused.", registrationsRefused);
        counter(out, "pccl_master_kicks_total", "Peers kicked (heartbeat timeout, protocol violation, ...).", kicks);
        outcomes(out, "pccl_master_collective_outcomes_total",
                "Collective operation outcomes sent to peers (one per peer and operation).", collectivesSucceeded,
                collectivesFailed);
        outcomes(out, "pccl_master_sync_outcomes_total", "Shared-state sync outcomes sent to peers.", syncsSucceeded,
                syncsFailed);
        outcomes(out, "pccl_master_optimize_outcomes_total", "Topology optimization outcomes sent to peers.",
                optimizationsSucceeded, optimizationsFailed);
        return out.toString();
    }

    private static void help(final StringBuilder out, final String name, final String type, final String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n')
                .append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void gauge(final StringBuilder out, final String name, final String help, final String value) {
        help(out, name, "gauge", help);
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void counter(final StringBuilder out, final String name, final String help, final long value) {
        help(out, name, "counter", help);
        out.append(name).append(' ').append(value).append('\n');
    }

    private static void outcomes(final StringBuilder out, final String name, final String help, final long ok,
                                 final long failed) {
        help(out, name, "counter", help);
        out.append(name).append("{result=\"success\"} ").append(ok).append('\n')
                .append(name).append("{result=\"failure\"} ").append(failed).append('\n');
    }
}
