package io.pccl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.hash.HashType;
import io.pccl.hash.SimpleHash;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Validation of {@link SharedState} entries before anything is sent, and entry hashing. */
class SharedStateTest {
    private static void assertInvalid(final Executable call, final String... fragments) {
        final PcclException e = assertThrows(PcclException.class, call);
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        for (final String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + e.getMessage() + "' should contain '" + f + "'");
        }
    }

    @Test
    void buildsEntriesInOrderAndLooksThemUpByName() {
        final float[] w = new float[10];
        final ByteBuffer b = ByteBuffer.allocateDirect(64);
        b.position(8);
        final SharedState s = SharedState.builder().revision(3).entry("w", w).entry("b", b, DataType.INT32, 14)
                .entry("r", new long[4], DataType.UINT64, 4, true).build();
        assertEquals(3, s.revision());
        assertEquals(List.of("w", "b", "r"), List.of(s.entries().get(0).name(), s.entries().get(1).name(),
                s.entries().get(2).name()));
        assertEquals(40, s.entry("w").sizeBytes());
        assertEquals(8, s.entry("b").bufferOffset());
        assertEquals(56, s.entry("b").sizeBytes());
        assertTrue(s.entry("r").allowContentInequality());
        assertNull(s.entry("missing"));
        assertEquals(4, s.incrementRevision());
    }

    @Test
    void hashTypeAppliesToEntriesAddedAfterItDefaultSimple() {
        final SharedState s = SharedState.builder().entry("a", new float[4]).hashType(HashType.CRC32C)
                .entry("b", new float[4]).hashType(HashType.SIMPLE).entry("c", new float[4]).build();
        assertEquals(HashType.SIMPLE, s.entry("a").hashType());
        assertEquals(HashType.CRC32C, s.entry("b").hashType());
        assertEquals(HashType.SIMPLE, s.entry("c").hashType());
        final io.pccl.proto.SyncSharedStateRequest vote = io.pccl.state.internal.SharedStateProtos.syncRequest(s,
                SyncStrategy.ENFORCE_POPULAR);
        assertEquals(io.pccl.proto.HashTypeProto.forNumber(HashType.CRC32C.wireNumber()),
                vote.getEntries(1).getHashType());
        assertEquals(s.entry("b").hash(HashType.CRC32C), vote.getEntries(1).getHash());
        assertEquals(s.entry("a").hash(HashType.SIMPLE), vote.getEntries(0).getHash());
    }

    @Test
    void rejectsBadEntriesNamingValueAndLimit() {
        assertInvalid(() -> SharedState.builder().build(), "0 entries");
        assertInvalid(() -> SharedState.builder().entry("a", new float[1]).entry("a", new float[2]),
                "duplicate", "'a'");
        assertInvalid(() -> SharedState.builder().entry("f", new float[4], DataType.FLOAT64, 4, false),
                "float[]", "FLOAT64");
        assertInvalid(() -> SharedState.builder().entry("i", new int[4], DataType.INT32, 5, false),
                "count 5", "length 4");
        assertInvalid(() -> SharedState.builder().entry("bb", ByteBuffer.allocate(10), DataType.FLOAT32, 3),
                "10 bytes remaining", "12");
        assertInvalid(() -> SharedState.builder().entry("raw", new byte[7], DataType.INT64, 1, false),
                "length 7", "8");
        assertInvalid(() -> SharedState.builder().entry("c", new char[3], DataType.UINT16, 3, false),
                "unsupported storage", "[C");
        assertInvalid(() -> SharedState.builder().entry("n", new float[1], DataType.FLOAT32, -1, false),
                "count -1");
        assertInvalid(() -> SharedState.builder().entry("", new float[1]), "length 0");
        assertInvalid(() -> SharedState.builder().revision(-2), "revision -2");
    }

    @Test
    void entryHashEqualsHashOfItsLittleEndianBytes() {
        final int n = 1001;
        final float[] f = new float[n];
        for (int i = 0; i < n; i++) {
            f[i] = i * 0.5f;
        }
        final ByteBuffer le = ByteBuffer.allocateDirect(4 + n * 4).order(ByteOrder.LITTLE_ENDIAN);
        le.position(4);
        le.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(f);
        final SharedState s = SharedState.builder().entry("arr", f).entry("buf", le, DataType.FLOAT32, n).build();
        final long expected = SimpleHash.hash(le, 4, 4L * n);
        assertEquals(expected, s.entry("arr").hash(HashType.SIMPLE));
        assertEquals(expected, s.entry("buf").hash(HashType.SIMPLE));
        assertEquals(s.entry("arr").hash(HashType.CRC32C), s.entry("buf").hash(HashType.CRC32C));
    }
}
