package io.pccl.master;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pccl.proto.ConnectionRole;
import io.pccl.proto.Envelope;
import io.pccl.proto.ErrorCode;
import io.pccl.transport.Envelopes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A master with a shared key against raw sockets. The handshake is written here from its description in
 * {@code docs/protocol.md} ("Authentication"), with the JDK's HMAC, not with the code under test. A holder of
 * the key joins; a hello without the handshake, a wrong proof, random bytes after the magic and a handshake left
 * unfinished each get {@code ERROR_UNAUTHENTICATED} (or a close), and the master goes on serving.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class MasterAuthenticationSystemTest {
    private static final long SEED = 20261129L;
    private static final byte[] KEY = "the-master-authentication-test-key".getBytes(StandardCharsets.UTF_8);
    private static final int MAGIC = 0x50434131;
    private static Master master;
    private static int nextGroup = 1;

    @BeforeAll
    static void startMaster() {
        master = Master.builder().host("127.0.0.1").port(0).heartbeatInterval(Duration.ofMillis(500))
                .heartbeatTimeout(Duration.ofSeconds(2)).authKey(KEY).build().start();
    }

    @AfterAll
    static void stopMaster() {
        master.close();
    }

    private static byte[] hmac(final String label, final byte[] a, final byte[] b) throws GeneralSecurityException {
        final Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
        mac.update(label.getBytes(StandardCharsets.US_ASCII));
        mac.update(a);
        mac.update(b);
        return mac.doFinal();
    }

    /** Sends magic + nonce, checks the master's proof, and returns the master's nonce. */
    private static byte[] openHandshake(final TestPeerClient c, final byte[] nonce) throws Exception {
        c.sendRaw(ByteBuffer.allocate(36).putInt(MAGIC).put(nonce).array());
        assertEquals(MAGIC, c.in.readInt(), "the master answers with the handshake's magic");
        final byte[] theirs = new byte[32];
        c.in.readFully(theirs);
        final byte[] proof = new byte[32];
        c.in.readFully(proof);
        assertArrayEquals(hmac("pccl-auth responder v1", nonce, theirs), proof, "the master proves the key");
        return theirs;
    }

    private static void assertUnauthenticated(final TestPeerClient c) throws IOException {
        final Envelope e = c.awaitErrorOrClose();
        if (e != null) {
            assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, e.getError().getCode(), e::toString);
        }
    }

    private static void assertHolderJoins() throws Exception {
        try (TestPeerClient peer = new TestPeerClient(master.port())) {
            final byte[] nonce = new byte[32];
            new Random(SEED + nextGroup).nextBytes(nonce);
            final byte[] theirs = openHandshake(peer, nonce);
            peer.sendRaw(hmac("pccl-auth initiator v1", nonce, theirs));
            assertTrue(peer.joinAlone(nextGroup++) > 0);
        }
    }

    @Test
    void shouldAcceptAHolderOfTheKeyThroughTheDocumentedHandshake() throws Exception {
        assertHolderJoins();
    }

    @Test
    void shouldAnswerAHelloWithoutTheHandshakeWithUnauthenticated() throws Exception {
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            offender.send(Envelopes.hello(ConnectionRole.ROLE_PEER_TO_MASTER, 0, 0, 0));
            final Envelope e = offender.awaitErrorOrClose();
            assertNotNull(e, "an Error names the reason");
            assertEquals(ErrorCode.ERROR_UNAUTHENTICATED, e.getError().getCode(), e::toString);
            assertTrue(e.getError().getReason().startsWith("authentication required"), e::toString);
        }
        assertHolderJoins();
    }

    @Test
    void shouldTurnAwayAWrongProofAndRandomBytesAfterTheMagic() throws Exception {
        System.out.println("MasterAuthenticationSystemTest seed " + SEED);
        final Random rnd = new Random(SEED);
        for (int i = 0; i < 5; i++) {
            try (TestPeerClient offender = new TestPeerClient(master.port())) {
                final byte[] nonce = new byte[32];
                rnd.nextBytes(nonce);
                openHandshake(offender, nonce);
                final byte[] junk = new byte[32 + rnd.nextInt(300)];
                rnd.nextBytes(junk);
                offender.sendRaw(junk); // a wrong proof, then bytes that must never reach the protocol
                assertUnauthenticated(offender);
            }
        }
        assertHolderJoins();
    }

    @Test
    void shouldCloseAHandshakeLeftUnfinishedAfterTheRegistrationTimeout() throws Exception {
        try (TestPeerClient offender = new TestPeerClient(master.port())) {
            final byte[] nonce = new byte[32];
            openHandshake(offender, nonce); // and then silence: no proof
            assertUnauthenticated(offender);
        }
        assertHolderJoins();
    }
}
