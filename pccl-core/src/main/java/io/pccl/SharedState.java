package io.pccl;

import io.pccl.hash.Crc32c;
import io.pccl.hash.HashType;
import io.pccl.hash.SimpleHash;
import io.pccl.internal.PrimitiveArrays;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Named entries (weights, optimizer state, ...) plus a revision that the group keeps bit-identical through
 * {@code Communicator.syncSharedState}. Built once with {@link #builder()}; the entries' memory is the caller's
 * and is read (hashed, served) or overwritten (when this peer is outdated) in place during a sync.
 *
 * <pre>{@code
 * SharedState state = SharedState.builder()
 *         .revision(0)
 *         .entry("weights", weights)                                // float[] -> FLOAT32, all elements
 *         .entry("moments", momentsBuffer, DataType.FLOAT32, n)     // direct or heap ByteBuffer
 *         .entry("rng", rngState, DataType.UINT64, 4, true)         // allowContentInequality
 *         .build();
 * for (;;) { comm.syncSharedState(state, SyncStrategy.ENFORCE_POPULAR); train(); state.incrementRevision(); }
 * }</pre>
 *
 * <p>Entries are compared across peers by name. A buffer entry covers {@code count * dataType.sizeBytes()}
 * bytes from the buffer's position at {@code entry(...)} time (later position changes do not matter); its
 * content is little-endian. Array entries cover elements {@code [0, count)}; {@code byte[]} may carry any type.
 * Every rule is checked before anything is sent: violations throw {@link PcclException} with
 * {@link PcclException.Code#INVALID_ARGUMENT} naming the value and the limit.
 *
 * <p>Not thread-safe: do not change the revision or the entries' memory while a sync runs.
 *
 * @since 0.1
 */
public final class SharedState {
    /** Longest entry name, in characters. */
    public static final int MAX_KEY_LENGTH = 1024;
    /** Most entries one shared state may hold (keeps the sync vote within one control frame). */
    public static final int MAX_ENTRIES = 16384;

    private final List<Entry> entries;
    private final Map<String, Entry> byName;
    private long revision;

    private SharedState(final long revision, final List<Entry> entries) {
        this.revision = revision;
        this.entries = Collections.unmodifiableList(new ArrayList<>(entries));
        final Map<String, Entry> map = new HashMap<>();
        for (final Entry e : entries) {
            map.put(e.name, e);
        }
        this.byName = map;
    }

    /**
     * Starts a builder.
     *
     * @return a new builder with revision 0 and no entries
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The revision this peer holds.
     *
     * @return the revision, {@code >= 0}
     */
    public long revision() {
        return revision;
    }

    /**
     * Sets the revision (a sync sets it to the group's revision; users normally call {@link #incrementRevision()}
     * once per training step).
     *
     * @param revision the new revision, {@code >= 0}
     * @return this
     */
    public SharedState revision(final long revision) {
        this.revision = checkRevision(revision);
        return this;
    }

    /**
     * Adds one to the revision: the group requires exactly one increment between successive syncs.
     *
     * @return the new revision
     */
    public long incrementRevision() {
        if (revision == Long.MAX_VALUE) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "revision " + revision
                    + " cannot be incremented past Long.MAX_VALUE");
        }
        return ++revision;
    }

    /**
     * The entries in the order they were added.
     *
     * @return an unmodifiable list
     */
    public List<Entry> entries() {
        return entries;
    }

    /**
     * Looks an entry up by name.
     *
     * @param name the entry name
     * @return the entry, or null if there is none with that name
     */
    public Entry entry(final String name) {
        return byName.get(name);
    }

    private static long checkRevision(final long revision) {
        if (revision < 0) {
            throw new PcclException(PcclException.Code.INVALID_ARGUMENT, "revision " + revision + " must be >= 0");
        }
        return revision;
    }

    @Override
    public String toString() {
        return "SharedState{revision=" + revision + ", entries=" + entries + "}";
    }

    /**
     * One named entry. Immutable description over caller-owned memory.
     *
     * <p>Thread-safe (immutable; the memory it describes is the caller's).
     *
     * @since 0.1
     */
    public static final class Entry {
        private final String name;
        private final DataType dataType;
        private final long count;
        private final boolean allowContentInequality;
        private final ByteBuffer buffer;
        private final int bufferOffset;
        private final Object array;
        private final HashType hashType;

        private Entry(final String name, final DataType dataType, final long count,
                      final boolean allowContentInequality, final ByteBuffer buffer, final int bufferOffset,
                      final Object array, final HashType hashType) {
            this.name = name;
            this.dataType = dataType;
            this.count = count;
            this.allowContentInequality = allowContentInequality;
            this.buffer = buffer;
            this.bufferOffset = bufferOffset;
            this.array = array;
            this.hashType = hashType;
        }

        /**
         * The algorithm a sync hashes this entry with (peers must agree on it per key).
         *
         * @return the hash type ({@link HashType#SIMPLE} unless the builder chose another)
         */
        public HashType hashType() {
            return hashType;
        }

        /**
         * The entry's name, unique within its shared state.
         *
         * @return the name
         */
        public String name() {
            return name;
        }

        /**
         * The element type.
         *
         * @return the type
         */
        public DataType dataType() {
            return dataType;
        }

        /**
         * Number of elements.
         *
         * @return the count, {@code >= 0}
         */
        public long count() {
            return count;
        }

        /**
         * Size of the entry's content.
         *
         * @return {@code count * dataType.sizeBytes()}
         */
        public long sizeBytes() {
            return count * dataType.sizeBytes();
        }

        /**
         * Whether peers may hold different content for this entry (never compared; still sent to peers that
         * are outdated or joining).
         *
         * @return the flag
         */
        public boolean allowContentInequality() {
            return allowContentInequality;
        }

        /**
         * The buffer this entry lives in, for buffer entries: a duplicate (own position/limit, shared content)
         * whose bytes {@code [bufferOffset(), bufferOffset() + sizeBytes())} are the entry.
         *
         * @return the buffer view, or null for array entries
         */
        public ByteBuffer buffer() {
            return buffer == null ? null : buffer.duplicate();
        }

        /**
         * Absolute index of the entry's first byte in {@link #buffer()}.
         *
         * @return the offset, 0 for array entries
         */
        public int bufferOffset() {
            return bufferOffset;
        }

        /**
         * The primitive array this entry lives in (elements {@code [0, count)}), for array entries.
         *
         * @return the array (byte[], short[], int[], long[], float[] or double[]), or null for buffer entries
         */
        public Object array() {
            return array;
        }

        /**
         * Hashes the entry's current content.
         *
         * @param type the algorithm
         * @return the hash, an unsigned 32-bit value in a long
         */
        public long hash(final HashType type) {
            Objects.requireNonNull(type, "type");
            if (buffer != null) {
                return type.hash(buffer, bufferOffset, sizeBytes());
            }
            final int n = (int) count;
            if (type == HashType.CRC32C) {
                return Crc32c.hashArray(array, 0, array instanceof byte[] ? (int) sizeBytes() : n);
            }
            if (array instanceof byte[]) {
                return SimpleHash.hash((byte[]) array, 0, (int) sizeBytes());
            } else if (array instanceof float[]) {
                return SimpleHash.hash((float[]) array, 0, n);
            } else if (array instanceof double[]) {
                return SimpleHash.hash((double[]) array, 0, n);
            } else if (array instanceof int[]) {
                return SimpleHash.hash((int[]) array, 0, n);
            } else if (array instanceof long[]) {
                return SimpleHash.hash((long[]) array, 0, n);
            }
            return SimpleHash.hash((short[]) array, 0, n);
        }

        @Override
        public String toString() {
            return "Entry{" + name + ", " + dataType + " x " + count + (buffer != null ? ", buffer" : ", "
                    + array.getClass().getSimpleName()) + (allowContentInequality ? ", allowContentInequality" : "")
                    + (hashType != HashType.SIMPLE ? ", " + hashType : "") + "}";
        }
    }

    /**
     * Collects the revision and the entries, and validates them in {@link #build()}.
     *
     * <p>Not thread-safe.
     *
     * @since 0.1
     */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();
        private final Map<String, Integer> positions = new HashMap<>();
        private long revision;
        private HashType hashType = HashType.SIMPLE;

        private Builder() {
        }

        /**
         * Chooses the hash algorithm of the entries added after this call (default {@link HashType#SIMPLE}, the
         * reference's simplehash). Call it first to set it for the whole state, or between entries to choose per
         * entry. Every peer must use the same algorithm for a key (a difference fails the sync with a key-set
         * mismatch).
         *
         * @param type the algorithm
         * @return this
         */
        public Builder hashType(final HashType type) {
            this.hashType = Objects.requireNonNull(type, "type");
            return this;
        }

        /**
         * Sets the initial revision.
         *
         * @param revision {@code >= 0}
         * @return this
         */
        public Builder revision(final long revision) {
            this.revision = checkRevision(revision);
            return this;
        }

        /**
         * Adds a buffer entry of {@code count} elements starting at the buffer's current position.
         *
         * @param name unique name
         * @param buffer direct or heap buffer holding little-endian elements
         * @param dataType element type
         * @param count number of elements, {@code >= 0}
         * @return this
         */
        public Builder entry(final String name, final ByteBuffer buffer, final DataType dataType, final long count) {
            return entry(name, buffer, dataType, count, false);
        }

        /**
         * Adds a buffer entry of {@code count} elements starting at the buffer's current position.
         *
         * @param name unique name
         * @param buffer direct or heap buffer holding little-endian elements
         * @param dataType element type
         * @param count number of elements, {@code >= 0}
         * @param allowContentInequality true if peers may differ in this entry
         * @return this
         */
        public Builder entry(final String name, final ByteBuffer buffer, final DataType dataType, final long count,
                             final boolean allowContentInequality) {
            Objects.requireNonNull(buffer, "buffer");
            Objects.requireNonNull(dataType, "dataType");
            checkName(name);
            checkCount(name, count);
            final long bytes = count * dataType.sizeBytes();
            if (count > Integer.MAX_VALUE || bytes > buffer.remaining()) {
                throw invalid("entry '" + name + "': buffer has " + buffer.remaining() + " bytes remaining, but count "
                        + count + " x " + dataType.sizeBytes() + " bytes (" + dataType + ") needs " + bytes);
            }
            return add(new Entry(name, dataType, count, allowContentInequality, buffer.duplicate(),
                    buffer.position(), null, hashType));
        }

        /**
         * Adds a {@code float[]} entry of all its elements as FLOAT32.
         *
         * @param name unique name
         * @param array the array
         * @return this
         */
        public Builder entry(final String name, final float[] array) {
            return arrayEntry(name, array, array.length, DataType.FLOAT32, array.length, false);
        }

        /**
         * Adds a {@code double[]} entry of all its elements as FLOAT64.
         *
         * @param name unique name
         * @param array the array
         * @return this
         */
        public Builder entry(final String name, final double[] array) {
            return arrayEntry(name, array, array.length, DataType.FLOAT64, array.length, false);
        }

        /**
         * Adds an array entry. The array type must hold {@code dataType}: float[] FLOAT32; double[] FLOAT64;
         * int[] INT32/UINT32; long[] INT64/UINT64; short[] INT16/UINT16/FLOAT16/BFLOAT16; byte[] any type
         * (raw little-endian bytes, {@code count * size} of them).
         *
         * @param name unique name
         * @param array byte[], short[], int[], long[], float[] or double[]
         * @param dataType element type
         * @param count number of elements from index 0
         * @param allowContentInequality true if peers may differ in this entry
         * @return this
         */
        public Builder entry(final String name, final Object array, final DataType dataType, final long count,
                             final boolean allowContentInequality) {
            Objects.requireNonNull(array, "array");
            final int length;
            if (array instanceof byte[]) {
                length = ((byte[]) array).length;
            } else if (array instanceof short[]) {
                length = ((short[]) array).length;
            } else if (array instanceof int[]) {
                length = ((int[]) array).length;
            } else if (array instanceof long[]) {
                length = ((long[]) array).length;
            } else if (array instanceof float[]) {
                length = ((float[]) array).length;
            } else if (array instanceof double[]) {
                length = ((double[]) array).length;
            } else if (array instanceof ByteBuffer) {
                return entry(name, (ByteBuffer) array, dataType, count, allowContentInequality);
            } else {
                throw invalid("entry '" + name + "': unsupported storage " + array.getClass().getName()
                        + "; expected ByteBuffer, byte[], short[], int[], long[], float[] or double[]");
            }
            return arrayEntry(name, array, length, dataType, count, allowContentInequality);
        }

        /**
         * Adds an array entry (see {@link #entry(String, Object, DataType, long, boolean)}), content compared.
         *
         * @param name unique name
         * @param array byte[], short[], int[], long[], float[] or double[]
         * @param dataType element type
         * @param count number of elements from index 0
         * @return this
         */
        public Builder entry(final String name, final Object array, final DataType dataType, final long count) {
            return entry(name, array, dataType, count, false);
        }

        /**
         * Validates and builds.
         *
         * @return the shared state
         * @throws PcclException INVALID_ARGUMENT if there are no entries
         */
        public SharedState build() {
            if (entries.isEmpty()) {
                throw invalid("shared state has 0 entries; at least 1 is required");
            }
            return new SharedState(revision, entries);
        }

        private Builder arrayEntry(final String name, final Object array, final int length, final DataType type,
                                   final long count, final boolean allowContentInequality) {
            Objects.requireNonNull(type, "dataType");
            checkName(name);
            checkCount(name, count);
            final String arrayType = array.getClass().getSimpleName();
            if (array instanceof byte[]) {
                final long bytes = count * type.sizeBytes();
                if (bytes > length) {
                    throw invalid("entry '" + name + "': byte[] of length " + length + " is smaller than count "
                            + count + " x " + type.sizeBytes() + " bytes (" + type + ") = " + bytes);
                }
            } else {
                if (!PrimitiveArrays.holds(array, type)) {
                    throw invalid("entry '" + name + "': " + arrayType + " cannot hold " + type
                            + " (float[]: FLOAT32, double[]: FLOAT64, int[]: INT32/UINT32, long[]: INT64/UINT64, "
                            + "short[]: INT16/UINT16/FLOAT16/BFLOAT16, byte[]: any)");
                }
                if (count > length) {
                    throw invalid("entry '" + name + "': count " + count + " exceeds " + arrayType + " length "
                            + length);
                }
            }
            return add(new Entry(name, type, count, allowContentInequality, null, 0, array, hashType));
        }

        private Builder add(final Entry e) {
            final Integer first = positions.putIfAbsent(e.name, entries.size());
            if (first != null) {
                throw invalid("duplicate shared-state key '" + e.name + "' at entry " + entries.size()
                        + "; first added at entry " + first);
            }
            if (entries.size() >= MAX_ENTRIES) {
                throw invalid("shared state has more than " + MAX_ENTRIES + " entries");
            }
            entries.add(e);
            return this;
        }

        private static void checkName(final String name) {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty() || name.length() > MAX_KEY_LENGTH) {
                throw invalid("entry name length " + name.length() + " must be in [1, " + MAX_KEY_LENGTH + "]");
            }
        }

        private static void checkCount(final String name, final long count) {
            if (count < 0) {
                throw invalid("entry '" + name + "': count " + count + " must be >= 0");
            }
        }

        private static PcclException invalid(final String message) {
            return new PcclException(PcclException.Code.INVALID_ARGUMENT, message);
        }
    }
}
