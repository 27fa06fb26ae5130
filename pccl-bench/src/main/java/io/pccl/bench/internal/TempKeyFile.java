package io.pccl.bench.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A fresh shared key for a run of the demo or the churn harness with {@code --auth}: 32 random bytes, base64, in a
 * temporary file that the master and every peer JVM read ({@code --auth-key-file}) and that is deleted when this
 * JVM exits.
 *
 * <p>Thread-safe (stateless).
 */
public final class TempKeyFile {
    private TempKeyFile() {
    }

    /**
     * Writes a new key file.
     *
     * @return its path
     * @throws IOException if the temporary file cannot be written
     */
    public static Path create() throws IOException {
        final Path file = Files.createTempFile("pccl-key", ".txt");
        file.toFile().deleteOnExit();
        final byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, Base64.getEncoder().encodeToString(key));
        return file;
    }
}
