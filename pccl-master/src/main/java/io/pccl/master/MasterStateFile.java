package io.pccl.master;

import io.pccl.master.state.election.HeldRevision;
import io.pccl.transport.LogThrottle;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The master's state file ({@code Master.Builder.stateFile}, {@code pccl-master --state-file}): per peer group, the
 * revision of its last successful shared-state sync, so that a restarted master does not let a peer that fell
 * behind seed a group with older state (docs/fault-tolerance.md §7). A small text file:
 *
 * <pre>
 *   pccl-master-state 1
 *   group 0 revision 13 content 5f0d8b3c9a2e4417
 *   group 7 revision 2 content 0c41e6d2b9a87f35
 * </pre>
 *
 * Lines starting with {@code #} and blank lines are ignored (an empty file holds nothing); group and revision are
 * unsigned decimals, content the fingerprint of the content that sync elected
 * ({@code SharedStateElection.contentFingerprint}), 16 hexadecimal digits. The master replaces the whole file (a
 * temporary file beside it, forced to the disk, then a rename) each time a sync succeeds, from one writer thread
 * that skips snapshots a newer one has overtaken, so neither the conductor nor a slow disk waits on the other.
 *
 * <p>Thread-safe: {@link #read} is static; {@link #submit} may be called from any thread, writes run on the
 * file's own thread.
 */
final class MasterStateFile implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MasterStateFile.class);
    /** The first line of a file this version writes and reads. */
    static final String HEADER = "pccl-master-state 1";
    /** Longest file {@link #read} accepts: a line per group, far below this for any real deployment. */
    static final long MAX_BYTES = 1 << 20;

    private final Path file;
    private final ExecutorService writer;
    /** The newest snapshot not yet written, or null; guarded by {@code this}. */
    private SortedMap<Integer, HeldRevision> pending;
    /** Failed writes: a full disk fails every one, and a sync may come every few milliseconds. */
    private final LogThrottle writeFailures = new LogThrottle();
    /** The last snapshot written (or read at start); confined to the writer thread. */
    private SortedMap<Integer, HeldRevision> written;

    /**
     * A writer for {@code file}.
     *
     * @param file the state file
     * @param current what the file holds now (from {@link #read}), so that an unchanged state is not rewritten
     */
    MasterStateFile(final Path file, final SortedMap<Integer, HeldRevision> current) {
        this.file = file;
        this.written = new TreeMap<>(current);
        this.writer = Executors.newSingleThreadExecutor(r -> {
            final Thread t = new Thread(r, "pccl-master-state-file");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Reads a state file.
     *
     * @param file the file
     * @return revision by group; empty when the file does not exist (a first start)
     * @throws IllegalArgumentException if the file is malformed: the message names the file, the line and what is
     *     wrong
     * @throws UncheckedIOException if the file exists but cannot be read
     */
    static TreeMap<Integer, HeldRevision> read(final Path file) {
        final List<String> lines;
        try {
            final long size = Files.size(file);
            if (size > MAX_BYTES) {
                throw new IllegalArgumentException("master state file " + file + " has " + size
                        + " bytes, more than the limit of " + MAX_BYTES);
            }
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (final NoSuchFileException e) {
            return new TreeMap<>();
        } catch (final IOException e) {
            throw new UncheckedIOException("cannot read master state file " + file + ": " + e.getMessage(), e);
        }
        final TreeMap<Integer, HeldRevision> out = new TreeMap<>();
        boolean headerSeen = false;
        for (int i = 0; i < lines.size(); i++) {
            final String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            final String where = "master state file " + file + ", line " + (i + 1);
            if (!headerSeen) {
                if (!line.equals(HEADER)) {
                    throw new IllegalArgumentException(where + ": expected '" + HEADER + "' (the format this "
                            + "master reads), found '" + abbreviate(line) + "'");
                }
                headerSeen = true;
                continue;
            }
            final String[] w = line.split("\\s+");
            if (w.length != 6 || !w[0].equals("group") || !w[2].equals("revision") || !w[4].equals("content")) {
                throw new IllegalArgumentException(where + ": expected 'group G revision R content C', found '"
                        + abbreviate(line) + "'");
            }
            final int group;
            final long revision;
            final long content;
            try {
                group = Integer.parseUnsignedInt(w[1]);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException(where + ": group '" + abbreviate(w[1])
                        + "' is not an unsigned 32-bit decimal", e);
            }
            try {
                revision = Long.parseUnsignedLong(w[3]);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException(where + ": revision '" + abbreviate(w[3])
                        + "' is not an unsigned 64-bit decimal", e);
            }
            try {
                if (w[5].length() != 16) {
                    throw new NumberFormatException("length " + w[5].length());
                }
                content = Long.parseUnsignedLong(w[5], 16);
            } catch (final NumberFormatException e) {
                throw new IllegalArgumentException(where + ": content '" + abbreviate(w[5])
                        + "' is not 16 hexadecimal digits", e);
            }
            if (out.put(group, new HeldRevision(revision, content)) != null) {
                throw new IllegalArgumentException(where + ": group " + Integer.toUnsignedString(group)
                        + " appears twice");
            }
        }
        return out;
    }

    /**
     * Checks that the master will be able to replace {@code file}: its directory exists and is writable.
     *
     * @param file the state file
     * @throws IllegalArgumentException naming the directory otherwise
     */
    static void checkWritable(final Path file) {
        final Path dir = file.toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("master state file " + file + ": directory " + dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            throw new IllegalArgumentException("master state file " + file + ": directory " + dir
                    + " is not writable (the file is replaced through a temporary file beside it)");
        }
    }

    /**
     * Deletes the temporary files a master killed while writing left beside {@code file} (its name, a random part,
     * {@code .tmp}); one that cannot be deleted is logged and left.
     *
     * @param file the state file
     */
    static void removeLeftovers(final Path file) {
        final Path dir = file.toAbsolutePath().getParent();
        final String prefix = file.getFileName().toString();
        try (var entries = Files.newDirectoryStream(dir, p -> {
            final String name = p.getFileName().toString();
            return name.startsWith(prefix) && name.endsWith(".tmp") && name.length() > prefix.length() + 4;
        })) {
            for (final Path leftover : entries) {
                try {
                    Files.deleteIfExists(leftover);
                    LOG.info("master: removed {}, left by a master stopped while writing its state file", leftover);
                } catch (final IOException e) {
                    LOG.warn("master: cannot remove {}: {}", leftover, e.toString());
                }
            }
        } catch (final IOException e) {
            LOG.warn("master: cannot list {} for leftovers of the state file: {}", dir, e.toString());
        }
    }

    private static String abbreviate(final String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "...";
    }

    /**
     * Schedules writing {@code state}; a later call before the write starts replaces it.
     *
     * @param state revision by group; copied
     */
    void submit(final SortedMap<Integer, HeldRevision> state) {
        final boolean schedule;
        synchronized (this) {
            schedule = pending == null;
            pending = new TreeMap<>(state);
        }
        if (schedule) {
            try {
                writer.execute(this::writePending);
            } catch (final RejectedExecutionException e) {
                LOG.warn("master: state file {} not updated: the master is closing", file);
            }
        }
    }

    private void writePending() {
        final SortedMap<Integer, HeldRevision> state;
        synchronized (this) {
            state = pending;
            pending = null;
        }
        if (state == null || state.equals(written)) {
            return;
        }
        try {
            write(file, state);
            written = state;
        } catch (final IOException e) {
            if (writeFailures.count()) {
                LOG.warn("master: cannot write the state file {}: {}; a restarted master would not know the groups' "
                        + "revisions (failure #{}; #1, #2, #4, ... are logged)", file, e.toString(),
                        writeFailures.events());
            }
        }
    }

    /**
     * Replaces {@code file} with {@code state}: a temporary file in the same directory, forced to the disk, then a
     * rename, so that a reader finds the old file or the new one whole, also after a crash of the host.
     */
    static void write(final Path file, final SortedMap<Integer, HeldRevision> state) throws IOException {
        final StringBuilder text = new StringBuilder(64 + 40 * state.size());
        text.append("# written by the pccl master; the revision of each group's last successful shared-state sync\n");
        text.append(HEADER).append('\n');
        for (final Map.Entry<Integer, HeldRevision> e : state.entrySet()) {
            text.append("group ").append(Integer.toUnsignedString(e.getKey())).append(" revision ")
                    .append(Long.toUnsignedString(e.getValue().revision())).append(" content ")
                    .append(String.format(Locale.ROOT, "%016x", e.getValue().content())).append('\n');
        }
        final Path dir = file.toAbsolutePath().getParent();
        final Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                final ByteBuffer bytes = StandardCharsets.UTF_8.encode(text.toString());
                while (bytes.hasRemaining()) {
                    ch.write(bytes);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (final AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Writes what is pending (bounded by {@code timeoutMs}) and stops the writer thread. */
    void close(final long timeoutMs) {
        writer.shutdown();
        try {
            if (!writer.awaitTermination(timeoutMs, TimeUnit.MILLISECONDS)) {
                LOG.warn("master: the state file {} was not written within {} ms of closing", file, timeoutMs);
                writer.shutdownNow();
            }
        } catch (final InterruptedException e) {
            Thread.currentThread().interrupt();
            writer.shutdownNow();
        }
    }

    @Override
    public void close() {
        close(1000);
    }
}
