package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.master.state.election.HeldRevision;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Reading and writing the master's state file; malformed files are refused naming the file, line and value. */
@Timeout(30)
class MasterStateFileTest {
    @TempDir
    Path dir;

    private IllegalArgumentException refused(final String text) throws IOException {
        final Path f = dir.resolve("bad");
        Files.writeString(f, text);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MasterStateFile.read(f));
        assertTrue(e.getMessage().startsWith("master state file " + f), e.getMessage());
        return e;
    }

    @Test
    void writesAndReadsBackUnsignedValues() throws IOException {
        final Path f = dir.resolve("state");
        assertEquals(Map.of(), MasterStateFile.read(f), "a missing file is a first start");
        final TreeMap<Integer, HeldRevision> state = new TreeMap<>(Map.of(0, new HeldRevision(13, 0x5f0d8b3c9a2e4417L),
                -1, new HeldRevision(-1L, -1L), 7, new HeldRevision(0, 1)));
        MasterStateFile.write(f, state);
        assertEquals(state, MasterStateFile.read(f));
        final String text = Files.readString(f);
        assertTrue(text.contains("group 4294967295 revision 18446744073709551615 content ffffffffffffffff\n"), text);
        assertTrue(text.contains("group 7 revision 0 content 0000000000000001\n"), text);
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file is left behind");
        }
        Files.writeString(f, "");
        assertEquals(Map.of(), MasterStateFile.read(f), "an empty file holds nothing");
        Files.writeString(f, "# note\n\n" + MasterStateFile.HEADER
                + "\n  group 2   revision 5 content 00000000000000aB \n# end\n");
        assertEquals(Map.of(2, new HeldRevision(5, 0xab)), MasterStateFile.read(f));
    }

    @Test
    void refusesMalformedFilesNamingTheLineAndTheValue() throws IOException {
        assertTrue(refused("pccl-master-state 2\n").getMessage().contains(
                "line 1: expected '" + MasterStateFile.HEADER + "'"));
        final String c = " content 0123456789abcdef";
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 rev 2" + c + "\n").getMessage().contains(
                "line 2: expected 'group G revision R content C', found 'group 1 rev 2" + c + "'"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 revision 2\n").getMessage().contains(
                "line 2: expected 'group G revision R content C', found 'group 1 revision 2'"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup -1 revision 2" + c + "\n").getMessage().contains(
                "line 2: group '-1' is not an unsigned 32-bit decimal"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 revision 18446744073709551616" + c + "\n")
                .getMessage().contains("line 2: revision '18446744073709551616' is not an unsigned 64-bit decimal"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 revision 2 content 12345\n").getMessage()
                .contains("line 2: content '12345' is not 16 hexadecimal digits"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 revision 2 content 0123456789abcdeg\n").getMessage()
                .contains("line 2: content '0123456789abcdeg' is not 16 hexadecimal digits"));
        assertTrue(refused(MasterStateFile.HEADER + "\ngroup 1 revision 2" + c + "\ngroup 1 revision 3" + c + "\n")
                .getMessage().contains("line 3: group 1 appears twice"));
        final Path big = dir.resolve("big");
        Files.write(big, new byte[(int) MasterStateFile.MAX_BYTES + 1]);
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MasterStateFile.read(big));
        assertTrue(e.getMessage().contains((MasterStateFile.MAX_BYTES + 1) + " bytes, more than the limit of "
                + MasterStateFile.MAX_BYTES), e.getMessage());
    }

    @Test
    void aFileInAMissingDirectoryIsRefusedNamingTheDirectory() {
        final Path f = dir.resolve("no-such-dir").resolve("state");
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MasterStateFile.checkWritable(f));
        assertEquals("master state file " + f + ": directory " + f.getParent() + " does not exist", e.getMessage());
        MasterStateFile.checkWritable(dir.resolve("state"));
    }

    @Test
    void aStartRemovesTheTemporaryFilesOfAMasterKilledWhileWriting() throws IOException {
        final Path f = dir.resolve("state");
        final Path leftover = Files.createTempFile(dir, "state", ".tmp");
        final Path other = Files.writeString(dir.resolve("other.tmp"), "not ours");
        MasterStateFile.write(f, new TreeMap<>(Map.of(1, new HeldRevision(2, 3))));
        MasterStateFile.removeLeftovers(f);
        assertTrue(Files.notExists(leftover), "leftover removed");
        assertTrue(Files.exists(other) && Files.exists(f), "other files and the state file stay");
    }

    @Test
    void theWriterKeepsTheNewestSnapshotAndFlushesOnClose() {
        final Path f = dir.resolve("state");
        final MasterStateFile file = new MasterStateFile(f, new TreeMap<>());
        for (long r = 0; r < 100; r++) {
            file.submit(new TreeMap<>(Map.of(0, new HeldRevision(r, r))));
        }
        file.close(5_000);
        assertEquals(Map.of(0, new HeldRevision(99, 99)), MasterStateFile.read(f));
    }
}
