package io.pccl.transport.auth;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The secret that the master and the peers of one deployment share: every connection between them proves
 * knowledge of it with {@link AuthHandshake} (HMAC-SHA256 over fresh nonces), so the key itself never travels.
 *
 * <p>Thread-safe (immutable; each {@link #mac} call uses its own {@link Mac}).
 */
public final class SharedKey {
    /** Fewest key bytes accepted: 128 bits. */
    public static final int MIN_BYTES = 16;
    /** Most key bytes accepted. */
    public static final int MAX_BYTES = 4096;
    private static final String ALGORITHM = "HmacSHA256";

    private final byte[] key;

    private SharedKey(final byte[] key) {
        this.key = key;
    }

    /**
     * A key from raw bytes (copied).
     *
     * @param key at least {@link #MIN_BYTES} and at most {@link #MAX_BYTES} bytes
     * @return the key
     * @throws IllegalArgumentException if the length is out of range
     */
    public static SharedKey of(final byte[] key) {
        if (key == null || key.length < MIN_BYTES || key.length > MAX_BYTES) {
            throw new IllegalArgumentException("shared key must have " + MIN_BYTES + " to " + MAX_BYTES
                    + " bytes, got " + (key == null ? "none" : key.length + ""));
        }
        return new SharedKey(key.clone());
    }

    /**
     * A key from a file: its content as UTF-8 text with surrounding white space removed (so
     * {@code head -c 32 /dev/urandom | base64 > key} works), at least {@link #MIN_BYTES} bytes of it.
     *
     * @param file the key file
     * @return the key
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException if what remains is shorter than {@link #MIN_BYTES} or longer than
     *         {@link #MAX_BYTES}
     */
    public static SharedKey fromFile(final Path file) throws IOException {
        if (Files.size(file) > 4L * MAX_BYTES) {
            throw new IllegalArgumentException("key file " + file + " has " + Files.size(file) + " bytes, at most "
                    + 4L * MAX_BYTES + " expected");
        }
        final byte[] text = Files.readString(file, StandardCharsets.UTF_8).strip().getBytes(StandardCharsets.UTF_8);
        if (text.length < MIN_BYTES) {
            throw new IllegalArgumentException("key file " + file + " holds " + text.length + " bytes after removing "
                    + "surrounding white space, at least " + MIN_BYTES + " required");
        }
        return of(text);
    }

    /**
     * HMAC-SHA256 of the concatenation of {@code parts} under this key.
     *
     * @param parts the message, in pieces
     * @return 32 bytes
     */
    byte[] mac(final byte[]... parts) {
        try {
            final Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(new SecretKeySpec(key, ALGORITHM));
            for (byte[] p : parts) {
                mac.update(p);
            }
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " is unavailable in this JDK", e);
        }
    }

    @Override
    public boolean equals(final Object o) {
        return o instanceof SharedKey k && java.security.MessageDigest.isEqual(key, k.key);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(key);
    }

    @Override
    public String toString() {
        return "SharedKey[" + key.length + " bytes]";
    }
}
