package io.pccl.internal.p2p;

import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import javax.security.auth.x500.X500Principal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link IncomingPools} holds the ring predecessor's connections to the certificate subject the master reported
 * (compared as X.500 names), whether a connection arrives before or after the ring is known; connections of other
 * peers wait unchecked, and without TLS (no subjects) nothing is checked.
 */
class IncomingPoolsTest {
    private static final X500Principal BOBS = new X500Principal("CN=bob, O=run");
    private static final X500Principal DAVES = new X500Principal("CN=dave, O=run");

    @Test
    void aConnectionNamingThePredecessorWithAnotherCertificateIsRefused() {
        final IncomingPools pools = new IncomingPools();
        pools.retainOnly(2, BOBS);
        final EmbeddedChannel impostor = new EmbeddedChannel();
        assertFalse(pools.register(2, 0, 1, impostor, DAVES));
        assertFalse(pools.register(2, 0, 1, impostor, null), "no certificate is not the right one either");
        assertArrayEquals(new io.netty.channel.Channel[0], pools.pool(2));
        final EmbeddedChannel bob = new EmbeddedChannel();
        assertTrue(pools.register(2, 0, 1, bob, new X500Principal("cn=Bob,o=RUN")), "the same name, another spelling");
        assertArrayEquals(new io.netty.channel.Channel[] {bob}, pools.pool(2));
        assertFalse(pools.register(2, 0, 1, impostor, DAVES), "nor can it replace the predecessor's connection");
        assertArrayEquals(new io.netty.channel.Channel[] {bob}, pools.pool(2));
        assertTrue(bob.isOpen());
    }

    @Test
    void connectionsRegisteredBeforeTheRingWasKnownAreCheckedWhenItIs() {
        final IncomingPools pools = new IncomingPools();
        final EmbeddedChannel bob = new EmbeddedChannel();
        final EmbeddedChannel impostor = new EmbeddedChannel();
        final EmbeddedChannel carol = new EmbeddedChannel();
        assertTrue(pools.register(2, 0, 2, bob, BOBS));
        assertTrue(pools.register(2, 1, 2, impostor, DAVES), "unchecked while peer 2 is not the predecessor");
        assertTrue(pools.register(3, 0, 1, carol, DAVES));
        pools.retainOnly(2, BOBS);
        assertArrayEquals(new io.netty.channel.Channel[] {bob, null}, pools.pool(2));
        assertTrue(bob.isOpen());
        assertFalse(impostor.isOpen(), "closed once peer 2 became the predecessor");
        assertFalse(carol.isOpen(), "not the predecessor: closed as before");
    }

    @Test
    void withoutSubjectsNothingIsChecked() {
        final IncomingPools pools = new IncomingPools();
        pools.retainOnly(2, null);
        final EmbeddedChannel any = new EmbeddedChannel();
        assertTrue(pools.register(2, 0, 1, any, null));
        pools.retainOnly(2, null);
        assertTrue(any.isOpen());
        assertArrayEquals(new io.netty.channel.Channel[] {any}, pools.pool(2));
    }
}
