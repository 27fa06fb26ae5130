package io.pccl;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A private network for multi-host tests: a hub namespace with a bridge and one namespace per node, each joined to
 * the bridge by a veth pair ({@code v<i>} in the hub, {@code eth0} in the node) with address
 * {@code 10.213.1.<i+1>/24}. Everything lives in namespaces this object creates and deletes; nothing is added to
 * the caller's namespace.
 *
 * <pre>
 *   node0 (10.213.1.1) eth0 --- v0 \
 *   node1 (10.213.1.2) eth0 --- v1 -- br0 (hub namespace)
 *   ...                        vN /
 * </pre>
 *
 * <p>Not thread-safe.
 */
final class NetnsNetwork implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(NetnsNetwork.class);

    private final String prefix;
    private final String hub;
    private final List<String> created = new ArrayList<>();
    private final int nodes;

    /**
     * Creates the namespaces and links.
     *
     * @param prefix short unique prefix (namespace names are prefix + "hub" / prefix + index)
     * @param nodes number of node namespaces
     * @throws IOException if a command fails (the message holds its output)
     */
    NetnsNetwork(final String prefix, final int nodes) throws IOException {
        this.prefix = prefix;
        this.hub = prefix + "hub";
        this.nodes = nodes;
        try {
            addNamespace(hub);
            run("ip", "-n", hub, "link", "add", "br0", "type", "bridge");
            run("ip", "-n", hub, "link", "set", "br0", "up");
            for (int i = 0; i < nodes; i++) {
                final String ns = namespace(i);
                addNamespace(ns);
                run("ip", "-n", hub, "link", "add", "v" + i, "type", "veth", "peer", "name", "eth0", "netns", ns);
                run("ip", "-n", hub, "link", "set", "v" + i, "master", "br0");
                run("ip", "-n", hub, "link", "set", "v" + i, "up");
                run("ip", "-n", ns, "addr", "add", address(i) + "/24", "dev", "eth0");
                run("ip", "-n", ns, "link", "set", "eth0", "up");
                run("ip", "-n", ns, "link", "set", "lo", "up");
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private void addNamespace(final String ns) throws IOException {
        run("ip", "netns", "add", ns);
        created.add(ns);
    }

    String namespace(final int node) {
        return prefix + node;
    }

    static String address(final int node) {
        return "10.213.1." + (node + 1);
    }

    /** Takes node {@code i}'s cable out at the bridge: no FIN, no RST, just silence. */
    void unplug(final int node) throws IOException {
        run("ip", "-n", hub, "link", "set", "v" + node, "down");
    }

    /**
     * Limits what node {@code from} sends to port {@code toPort} of node {@code to} (and only that) to
     * {@code rate}: an htb qdisc on {@code from}'s {@code eth0} whose default class is unlimited and whose second
     * class, selected by destination address and port, is capped. Matching the port keeps the acknowledgements of
     * {@code to}'s own connections to {@code from} (which go to ephemeral ports) out of the capped class.
     *
     * @param from sending node
     * @param to receiving node
     * @param toPort destination TCP port
     * @param rate tc rate, e.g. {@code 20mbit}
     * @throws IOException if a tc command fails
     */
    void throttle(final int from, final int to, final int toPort, final String rate) throws IOException {
        final String ns = namespace(from);
        run("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", "handle", "1:", "htb",
                "default", "10");
        run("ip", "netns", "exec", ns, "tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:10", "htb",
                "rate", "10gbit");
        run("ip", "netns", "exec", ns, "tc", "class", "add", "dev", "eth0", "parent", "1:", "classid", "1:20", "htb",
                "rate", rate, "ceil", rate);
        run("ip", "netns", "exec", ns, "tc", "filter", "add", "dev", "eth0", "parent", "1:", "protocol", "ip",
                "prio", "1", "u32", "match", "ip", "dst", address(to) + "/32", "match", "ip", "dport",
                String.valueOf(toPort), "0xffff", "flowid", "1:20");
    }

    /**
     * Builds a command that runs inside node {@code i}'s namespace.
     *
     * @param node the node
     * @param command the command
     * @return the full command line
     */
    List<String> inNamespace(final int node, final List<String> command) {
        final List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace(node)));
        full.addAll(command);
        return full;
    }

    static String run(final String... command) throws IOException {
        final Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": no exit within 20 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + ": interrupted", e);
        }
        final String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited " + p.exitValue() + ": " + output);
        }
        return output;
    }

    /** Deletes every namespace this object created (their links go with them). */
    @Override
    public void close() {
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                run("ip", "netns", "del", created.get(i));
            } catch (IOException e) {
                LOG.warn("cannot delete namespace {}", created.get(i), e);
            }
        }
        created.clear();
    }

    int nodes() {
        return nodes;
    }
}
