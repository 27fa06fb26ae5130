package io.pccl.transport.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Descriptors.OneofDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import io.pccl.proto.Envelope;

import java.net.InetAddress;
import java.util.List;
import java.util.Random;

/**
 * Seeded random control messages for hostile-input tests: an {@link Envelope} carrying one body of a random kind,
 * every field of it (nested messages included, to a depth of 3) set at random or left unset, with edge values for
 * numbers (0, small, -1, the maximum, random). Fields named {@code host} are always the loopback address and fields
 * named {@code port} are chosen by the caller, so that a receiver that dials what it is told reaches nothing but
 * what the test allows.
 *
 * <p>Thread-safe (stateless); the {@link Random} passed in is the caller's.
 */
public final class RandomEnvelopes {
    private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();
    private static final int MAX_DEPTH = 3;
    private static final int MAX_REPEATED = 3;

    private RandomEnvelopes() {
    }

    /**
     * @param rnd the source of randomness
     * @param ports the values to pick {@code port} fields from
     * @param ids values that {@code uint64} fields take now and then (e.g. peer ids the receiver knows), besides edge
     *            and random values
     * @return a random envelope
     */
    public static Envelope envelope(final Random rnd, final int[] ports, final long... ids) {
        final OneofDescriptor body = Envelope.getDescriptor().getOneofs().get(0);
        final FieldDescriptor field = body.getFields().get(rnd.nextInt(body.getFields().size()));
        final DynamicMessage message = message(rnd, DynamicMessage.newBuilder(field.getMessageType()), ports, ids, 0);
        final Envelope.Builder envelope = Envelope.newBuilder();
        try {
            // The generated builder takes only its own message class: parse the dynamic message into it.
            envelope.setField(field, envelope.newBuilderForField(field).mergeFrom(message.toByteString()).build());
        } catch (final InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
        return envelope.build();
    }

    private static DynamicMessage message(final Random rnd, final DynamicMessage.Builder b, final int[] ports,
                                          final long[] ids, final int depth) {
        for (final FieldDescriptor f : b.getDescriptorForType().getFields()) {
            if (f.getContainingOneof() != null && b.hasOneof(f.getContainingOneof()) || rnd.nextInt(4) == 0) {
                continue; // one member per oneof; some fields stay unset
            }
            if (f.isRepeated()) {
                final int n = rnd.nextInt(MAX_REPEATED + 1);
                for (int i = 0; i < n; i++) {
                    final Object v = value(rnd, f, ports, ids, depth);
                    if (v != null) {
                        b.addRepeatedField(f, v);
                    }
                }
            } else {
                final Object v = value(rnd, f, ports, ids, depth);
                if (v != null) {
                    b.setField(f, v);
                }
            }
        }
        return b.build();
    }

    private static Object value(final Random rnd, final FieldDescriptor f, final int[] ports, final long[] ids,
                                final int depth) {
        switch (f.getJavaType()) {
            case INT:
                return "port".equals(f.getName()) ? ports[rnd.nextInt(ports.length)]
                        : (int) edge(rnd, Integer.MAX_VALUE, rnd.nextInt());
            case LONG:
                return ids.length > 0 && rnd.nextInt(3) == 0 ? ids[rnd.nextInt(ids.length)]
                        : edge(rnd, Long.MAX_VALUE, rnd.nextLong());
            case BOOLEAN:
                return rnd.nextBoolean();
            case FLOAT:
                return rnd.nextFloat() * 1e6f - 5e5f;
            case DOUBLE:
                return rnd.nextDouble() * 1e12 - 5e11;
            case STRING:
                return "host".equals(f.getName()) ? LOOPBACK : text(rnd);
            case BYTE_STRING:
                return ByteString.copyFrom(bytes(rnd, rnd.nextInt(32)));
            case ENUM: {
                final List<EnumValueDescriptor> values = f.getEnumType().getValues();
                return values.get(rnd.nextInt(values.size()));
            }
            case MESSAGE:
                return depth >= MAX_DEPTH ? null
                        : message(rnd, DynamicMessage.newBuilder(f.getMessageType()), ports, ids, depth + 1);
            default:
                throw new AssertionError("unexpected field type " + f.getJavaType());
        }
    }

    /** 0, a small value, -1, {@code max} or {@code random}, alike often. */
    private static long edge(final Random rnd, final long max, final long random) {
        final long[] choices = {0, rnd.nextInt(8), -1, max, random};
        return choices[rnd.nextInt(choices.length)];
    }

    /** Printable ASCII, up to 19 characters. */
    private static String text(final Random rnd) {
        final char[] c = new char[rnd.nextInt(20)];
        for (int i = 0; i < c.length; i++) {
            c[i] = (char) (' ' + rnd.nextInt(95));
        }
        return new String(c);
    }

    /**
     * @param rnd the source of randomness
     * @param n how many
     * @return {@code n} random bytes
     */
    public static byte[] bytes(final Random rnd, final int n) {
        final byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }
}
