package io.pccl.reduce;

import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceOp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Compares {@link ReduceKernels} with a per-element scalar reference for every data type and op, on heap and direct
 * buffers at odd offsets: exact for integers, bit-exact for floating point (the reference combines in the same
 * order, half types through float32).
 */
class ReduceKernelsTest {
    private static final long SEED = 20_261_128L;
    private static final int[] COUNTS = {0, 1, 7, 33, 1000, 4099};

    static Stream<Arguments> typesAndOps() {
        final List<Arguments> all = new ArrayList<>();
        for (final DataType type : DataType.values()) {
            for (final ReduceOp op : ReduceOp.values()) {
                all.add(Arguments.of(type, op));
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndOps")
    void shouldMatchScalarReference(final DataType type, final ReduceOp op) {
        final long seed = SEED ^ (type.ordinal() * 31L + op.ordinal());
        System.out.println("ReduceKernelsTest " + type + " " + op + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        for (final int count : COUNTS) {
            for (int variant = 0; variant < 4; variant++) {
                final boolean directAcc = (variant & 1) != 0;
                final boolean directIn = (variant & 2) != 0;
                final int accOffset = random.nextInt(0, 9);
                final int inOffset = random.nextInt(0, 9);
                final ByteBuffer acc = randomBuffer(random, type, directAcc, accOffset, count);
                final ByteBuffer writableIn = randomBuffer(random, type, directIn, inOffset, count);
                final ByteBuffer in = random.nextBoolean() ? writableIn
                        : writableIn.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
                final ByteBuffer expected = copyOf(acc);
                for (int i = 0; i < count; i++) {
                    Elements.reference(type, op, expected, accOffset, in, inOffset, i);
                }
                final String context = type + " " + op + " count " + count + " variant " + variant + " seed " + seed;
                final ByteBuffer portable = copyOf(acc);
                ReduceKernels.accumulate(type, op, acc, accOffset, in, inOffset, count);
                assertSameElements(type, expected, acc, accOffset, count, context);
                ReduceKernels.combinePortable(type, op, portable, accOffset, portable, accOffset, in, inOffset, count);
                assertSameElements(type, expected, portable, accOffset, count, "portable path, " + context);
                assertEquals(0, acc.position(), "position untouched");
                assertEquals(0, in.position(), "position untouched");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndOps")
    void shouldCombineLikeCopyThenAccumulate(final DataType type, final ReduceOp op) {
        final long seed = SEED ^ (type.ordinal() * 131L + op.ordinal() * 7L + 1);
        System.out.println("ReduceKernelsTest combine " + type + " " + op + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        for (final int count : COUNTS) {
            for (int variant = 0; variant < 8; variant++) {
                final int dstOffset = random.nextInt(0, 9);
                final int aOffset = random.nextInt(0, 9);
                final int bOffset = random.nextInt(0, 9);
                final ByteBuffer dst = randomBuffer(random, type, (variant & 1) != 0, dstOffset, count);
                final ByteBuffer a = maybeReadOnly(random, randomBuffer(random, type, (variant & 2) != 0, aOffset,
                        count));
                final ByteBuffer b = maybeReadOnly(random, randomBuffer(random, type, (variant & 4) != 0, bOffset,
                        count));
                final ByteBuffer expected = copyOf(dst);
                final int bytes = count * type.sizeBytes();
                for (int i = 0; i < bytes; i++) {
                    expected.put(dstOffset + i, a.get(aOffset + i));
                }
                for (int i = 0; i < count; i++) {
                    Elements.reference(type, op, expected, dstOffset, b, bOffset, i);
                }
                final ByteBuffer aBefore = copyOf(a);
                final ByteBuffer bBefore = copyOf(b);
                final String context = type + " " + op + " count " + count + " variant " + variant + " seed " + seed;
                final ByteBuffer portable = copyOf(dst);
                ReduceKernels.combine(type, op, dst, dstOffset, a, aOffset, b, bOffset, count);
                assertSameElements(type, expected, dst, dstOffset, count, context);
                ReduceKernels.combinePortable(type, op, portable, dstOffset, a, aOffset, b, bOffset, count);
                assertSameElements(type, expected, portable, dstOffset, count, "portable path, " + context);
                assertSameElements(type, aBefore, a, 0, 0, "input a changed, " + context);
                assertSameElements(type, bBefore, b, 0, 0, "input b changed, " + context);
                assertEquals(0, dst.position(), "position untouched");
                assertEquals(0, a.position(), "position untouched");
                assertEquals(0, b.position(), "position untouched");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("typesAndOps")
    void shouldCombineInPlaceWhenDstIsTheSameMemoryAsAnInput(final DataType type, final ReduceOp op) {
        final long seed = SEED ^ (type.ordinal() * 17L + op.ordinal() * 3L + 2);
        System.out.println("ReduceKernelsTest combine in place " + type + " " + op + " seed " + seed);
        final SplittableRandom random = new SplittableRandom(seed);
        for (final int count : COUNTS) {
            for (int variant = 0; variant < 8; variant++) {
                final boolean dstIsA = (variant & 1) == 0;
                final boolean direct = (variant & 2) != 0;
                // The same memory through another buffer object (a duplicate) as well as the same object.
                final boolean viaDuplicate = (variant & 4) != 0;
                final int sharedOffset = random.nextInt(0, 9);
                final int otherOffset = random.nextInt(0, 9);
                final ByteBuffer shared = randomBuffer(random, type, direct, sharedOffset, count);
                final ByteBuffer other = randomBuffer(random, type, random.nextBoolean(), otherOffset, count);
                final ByteBuffer sharedView = viaDuplicate
                        ? shared.duplicate().order(ByteOrder.LITTLE_ENDIAN) : shared;
                final ByteBuffer expected = copyOf(shared);
                for (int i = 0; i < count; i++) {
                    Elements.reference(type, op, expected, sharedOffset, other, otherOffset, i);
                }
                final String context = type + " " + op + " count " + count + " variant " + variant + " seed " + seed;
                final ByteBuffer portable = copyOf(shared);
                if (dstIsA) {
                    ReduceKernels.combine(type, op, shared, sharedOffset, sharedView, sharedOffset, other,
                            otherOffset, count);
                    ReduceKernels.combinePortable(type, op, portable, sharedOffset, portable, sharedOffset, other,
                            otherOffset, count);
                } else {
                    // dst = b: every op is commutative, so op(other, shared) equals op(shared, other) bit for bit
                    // except for NaN payloads, which assertSameElements treats as equal.
                    ReduceKernels.combine(type, op, shared, sharedOffset, other, otherOffset, sharedView,
                            sharedOffset, count);
                    ReduceKernels.combinePortable(type, op, portable, sharedOffset, other, otherOffset, portable,
                            sharedOffset, count);
                }
                assertSameElements(type, expected, shared, sharedOffset, count, context);
                assertSameElements(type, expected, portable, sharedOffset, count, "portable path, " + context);
            }
        }
    }

    @Test
    void shouldRejectPartiallyOverlappingRanges() {
        for (final boolean direct : new boolean[] {false, true}) {
            final ByteBuffer buf = (direct ? ByteBuffer.allocateDirect(64) : ByteBuffer.allocate(64))
                    .order(ByteOrder.LITTLE_ENDIAN);
            final ByteBuffer other = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            final ByteBuffer view = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            final ByteBuffer slice = buf.position(4).slice().order(ByteOrder.LITTLE_ENDIAN);
            buf.position(0);
            final DataType f32 = DataType.FLOAT32;
            final ReduceOp sum = ReduceOp.SUM;
            final PcclException e = assertInvalid(() -> ReduceKernels.combine(f32, sum, buf, 0, buf, 4, other, 0, 4));
            assertTrue(e.getMessage().contains("dst range [0, 16) partially overlaps a range [4, 20)"),
                    e.getMessage());
            assertInvalid(() -> ReduceKernels.combine(f32, sum, buf, 8, other, 0, buf, 4, 4));
            assertInvalid(() -> ReduceKernels.combine(f32, sum, buf, 4, view, 0, other, 0, 4));
            assertInvalid(() -> ReduceKernels.combine(f32, sum, buf, 1, buf, 0, other, 0, 1));
            assertInvalid(() -> ReduceKernels.accumulate(f32, sum, buf, 0, buf, 12, 4));
            assertInvalid(() -> ReduceKernels.accumulate(DataType.INT8, sum, buf, 0, buf, 1, 2));
            // A slice starting 4 bytes in is the same memory as buf at offset 4, even though the offsets differ.
            assertInvalid(() -> ReduceKernels.combine(f32, sum, slice, 0, buf, 0, other, 0, 4));
            ReduceKernels.combine(f32, sum, slice, 0, buf, 4, other, 0, 4);
            // Touching, identical, and overlapping inputs are fine.
            ReduceKernels.combine(f32, sum, buf, 0, buf, 16, buf, 20, 4);
            ReduceKernels.combine(f32, sum, buf, 0, view, 0, buf, 0, 4);
            ReduceKernels.accumulate(f32, sum, buf, 0, view, 16, 4);
            ReduceKernels.combine(f32, sum, buf, 0, buf, 4, other, 0, 0);
        }
    }

    @Test
    void shouldRejectInvalidCombineArguments() {
        final ByteBuffer le = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer le2 = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer be = ByteBuffer.allocate(16);
        final DataType f32 = DataType.FLOAT32;
        final ReduceOp sum = ReduceOp.SUM;
        assertInvalid(() -> ReduceKernels.combine(f32, sum, be, 0, le, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, be, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 0, be, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(null, sum, le, 0, le2, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, null, le, 0, le2, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, null, 0, le2, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, null, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 0, null, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), 0,
                le2, 0, le2, 0, 1));
        final PcclException e = assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 4, le2, 0, le2, 0, 4));
        assertTrue(e.getMessage().contains("dst range [4, 20)"), e.getMessage());
        final PcclException ea = assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 1, le2, 0, 4));
        assertTrue(ea.getMessage().contains("a range [1, 17)"), ea.getMessage());
        final PcclException eb = assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 0, le2, 8, 3));
        assertTrue(eb.getMessage().contains("b range [8, 20)"), eb.getMessage());
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, -1, le2, 0, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, -1, le2, 0, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 0, le2, -1, 1));
        assertInvalid(() -> ReduceKernels.combine(f32, sum, le, 0, le2, 0, le2, 0, -1));
        assertInvalid(() -> ReduceKernels.combine(DataType.INT64, sum, le, 0, le2, 0, le2, 0, Integer.MAX_VALUE));
        // A read-only input is fine; a count of zero touches nothing, even at the end of the buffer.
        ReduceKernels.combine(f32, sum, le, 0, le2.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), 0, le2, 0, 4);
        ReduceKernels.combine(f32, sum, le, 16, le2, 16, le2, 16, 0);
    }

    @Test
    void shouldNotAllocateAfterTheFirstCallOnAThread() {
        final java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        assumeTrue(threads instanceof com.sun.management.ThreadMXBean, "no per-thread allocation counter");
        final com.sun.management.ThreadMXBean allocation = (com.sun.management.ThreadMXBean) threads;
        final ByteBuffer a = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer b = ByteBuffer.allocate(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer dst = ByteBuffer.allocateDirect(64 << 10).order(ByteOrder.LITTLE_ENDIAN);
        final int calls = 2000;
        long allocatedBytes = 0;
        for (int round = 0; round < 2; round++) {
            // Round 0 creates the thread's scratch and warms up; round 1 is measured.
            final long before = allocation.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < calls; i++) {
                final int count = 1 + (i * 977) % (16 << 10);
                ReduceKernels.combine(DataType.FLOAT32, ReduceOp.SUM, dst, 0, a, 0, b, 0, count);
                ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.MAX, dst, 0, b, 0, count);
                ReduceKernels.accumulate(DataType.INT32, ReduceOp.SUM, dst, 0, a, 0, count);
                ReduceKernels.accumulate(DataType.FLOAT64, ReduceOp.SUM, dst, 0, a, 0, count / 2);
            }
            allocatedBytes = allocation.getCurrentThreadAllocatedBytes() - before;
        }
        // The measurement itself may allocate a few bytes; one byte per call would be 8000.
        assertTrue(allocatedBytes < calls, "allocated " + allocatedBytes + " bytes over " + 4 * calls + " calls");
    }

    @Test
    void shouldDivideAveragesInTheElementType() {
        System.out.println("ReduceKernelsTest finishAverage seed " + SEED);
        final SplittableRandom random = new SplittableRandom(SEED);
        for (final DataType type : DataType.values()) {
            for (final int count : COUNTS) {
                final int divisor = random.nextInt(1, 10);
                final int offset = random.nextInt(0, 9);
                final ByteBuffer buf = randomBuffer(random, type, random.nextBoolean(), offset, count);
                final ByteBuffer expected = copyOf(buf);
                for (int i = 0; i < count; i++) {
                    Elements.referenceDivide(type, expected, offset, i, divisor);
                }
                final ByteBuffer portable = copyOf(buf);
                ReduceKernels.finishAverage(type, buf, offset, count, divisor);
                assertSameElements(type, expected, buf, offset, count, type + " count " + count + " / " + divisor);
                if (divisor > 1) {
                    ReduceKernels.dividePortable(type, portable, offset, count, divisor);
                    assertSameElements(type, expected, portable, offset, count, "portable path, " + type);
                }
            }
        }
    }

    @Test
    void shouldUseTheRawPathOnHotSpotX86() {
        if ("amd64".equals(System.getProperty("os.arch"))) {
            assertTrue(RawMemory.AVAILABLE, "raw memory path self-check failed on amd64");
        }
        assertEquals(RawMemory.AVAILABLE, RawMemory.UNSAFE != null);
    }

    @Test
    void shouldDivideUnsignedAndTruncateTowardZero() {
        final ByteBuffer buf = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(0, -1L).putLong(8, -7L);
        ReduceKernels.finishAverage(DataType.UINT64, buf, 0, 1, 3);
        assertEquals(Long.divideUnsigned(-1L, 3), buf.getLong(0));
        ReduceKernels.finishAverage(DataType.INT64, buf, 8, 1, 2);
        assertEquals(-3L, buf.getLong(8));
        buf.put(0, (byte) 0xFF).put(1, (byte) -7);
        ReduceKernels.finishAverage(DataType.UINT8, buf, 0, 1, 2);
        ReduceKernels.finishAverage(DataType.INT8, buf, 1, 1, 2);
        assertEquals((byte) 127, buf.get(0));
        assertEquals((byte) -3, buf.get(1));
    }

    @Test
    void shouldCompareUnsignedTypesUnsigned() {
        final ByteBuffer acc = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L);
        final ByteBuffer in = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, -1L);
        ReduceKernels.accumulate(DataType.UINT64, ReduceOp.MAX, acc, 0, in, 0, 1);
        assertEquals(-1L, acc.getLong(0));
        acc.putLong(0, 1L);
        ReduceKernels.accumulate(DataType.INT64, ReduceOp.MAX, acc, 0, in, 0, 1);
        assertEquals(1L, acc.getLong(0));
        acc.put(0, (byte) 0x7F);
        in.put(0, (byte) 0x80);
        ReduceKernels.accumulate(DataType.UINT8, ReduceOp.MIN, acc, 0, in, 0, 1);
        assertEquals((byte) 0x7F, acc.get(0));
    }

    @Test
    void shouldAccumulateInPlaceWhenBuffersAlias() {
        final ByteBuffer buf = ByteBuffer.allocateDirect(40).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < 10; i++) {
            buf.putFloat(i * 4, i + 0.5f);
        }
        ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, buf, 0, buf, 0, 10);
        for (int i = 0; i < 10; i++) {
            assertEquals(2 * (i + 0.5f), buf.getFloat(i * 4));
        }
    }

    @Test
    void shouldIgnoreAndKeepPositionsAndLimits() {
        for (int path = 0; path < 2; path++) {
            final ByteBuffer acc = ByteBuffer.allocateDirect(48).order(ByteOrder.LITTLE_ENDIAN);
            final ByteBuffer in = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 12; i++) {
                acc.putInt(i * 4, i);
                in.putInt(i * 4, 100);
            }
            acc.position(2).limit(4);
            in.limit(0);
            if (path == 0) {
                ReduceKernels.accumulate(DataType.INT32, ReduceOp.SUM, acc, 8, in, 0, 10);
                ReduceKernels.finishAverage(DataType.INT32, acc, 8, 10, 2);
            } else {
                ReduceKernels.combinePortable(DataType.INT32, ReduceOp.SUM, acc, 8, acc, 8, in, 0, 10);
                ReduceKernels.dividePortable(DataType.INT32, acc, 8, 10, 2);
            }
            assertEquals(2, acc.position());
            assertEquals(4, acc.limit());
            assertEquals(0, in.limit());
            acc.clear();
            assertEquals(1, acc.getInt(4), "before the range");
            for (int i = 2; i < 12; i++) {
                assertEquals((i + 100) / 2, acc.getInt(i * 4), "path " + path + " element " + i);
            }
        }
    }

    @Test
    void shouldRejectInvalidArguments() {
        final ByteBuffer le = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer be = ByteBuffer.allocate(16);
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, be, 0, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, le, 0, be, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, le, 4, le, 0, 4));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, le, -1, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, le, 0, le, 0, -1));
        assertInvalid(() -> ReduceKernels.accumulate(null, ReduceOp.SUM, le, 0, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, null, le, 0, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM, null, 0, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.FLOAT32, ReduceOp.SUM,
                le.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN), 0, le, 0, 1));
        assertInvalid(() -> ReduceKernels.accumulate(DataType.INT64, ReduceOp.SUM, le, 0, le, 0,
                Integer.MAX_VALUE));
        assertInvalid(() -> ReduceKernels.finishAverage(DataType.INT32, le, 0, 1, 0));
        assertInvalid(() -> ReduceKernels.finishAverage(DataType.INT32, le, 0, 5, 2));
    }

    private static PcclException assertInvalid(final Runnable call) {
        final PcclException e = assertThrows(PcclException.class, call::run);
        assertEquals(PcclException.Code.INVALID_ARGUMENT, e.code(), e.getMessage());
        return e;
    }

    private static ByteBuffer maybeReadOnly(final SplittableRandom random, final ByteBuffer buf) {
        return random.nextBoolean() ? buf : buf.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private static ByteBuffer randomBuffer(final SplittableRandom random, final DataType type, final boolean direct,
                                           final int offset, final int count) {
        final int size = offset + count * type.sizeBytes() + random.nextInt(0, 5);
        // Sometimes a slice of a larger buffer, so that array offsets and sliced addresses are exercised.
        final int sliceAt = random.nextInt(0, 3) == 0 ? random.nextInt(1, 17) : 0;
        final ByteBuffer whole = direct ? ByteBuffer.allocateDirect(size + sliceAt)
                : ByteBuffer.allocate(size + sliceAt);
        final ByteBuffer buf = whole.position(sliceAt).slice().order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < size; i++) {
            buf.put(i, (byte) random.nextInt());
        }
        for (int i = 0; i < count; i++) {
            Elements.randomize(random, type, buf, offset + i * type.sizeBytes());
        }
        return buf;
    }

    private static ByteBuffer copyOf(final ByteBuffer src) {
        final ByteBuffer copy = ByteBuffer.allocate(src.capacity()).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < src.capacity(); i++) {
            copy.put(i, src.get(i));
        }
        return copy;
    }

    private static void assertSameElements(final DataType type, final ByteBuffer expected, final ByteBuffer actual,
                                           final int offset, final int count, final String context) {
        for (int i = 0; i < expected.capacity(); i++) {
            final int element = (i - offset) / type.sizeBytes();
            if (i < offset || i >= offset + count * type.sizeBytes()) {
                assertEquals(expected.get(i), actual.get(i), "byte outside the range changed at " + i + ", " + context);
            } else if (expected.get(i) != actual.get(i)) {
                if (type.isFloatingPoint() && Elements.bothNaN(type, expected, actual, offset + element
                        * type.sizeBytes())) {
                    continue;
                }
                fail("element " + element + " differs: expected " + Elements.format(type, expected, offset
                        + element * type.sizeBytes()) + " got " + Elements.format(type, actual, offset
                        + element * type.sizeBytes()) + ", " + context);
            }
        }
    }

    /** Scalar reference arithmetic, element by element. */
    static final class Elements {
        private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

        private Elements() {
        }

        static void randomize(final SplittableRandom random, final DataType type, final ByteBuffer buf,
                              final int index) {
            final int pick = random.nextInt(20);
            switch (type) {
                case FLOAT32:
                    buf.putFloat(index, pick == 0 ? special(random) : (float) random.nextDouble(-1e3, 1e3));
                    break;
                case FLOAT64:
                    buf.putDouble(index, pick == 0 ? special(random) : random.nextDouble(-1e6, 1e6));
                    break;
                case FLOAT16:
                    buf.putShort(index, HalfFloats.floatToFloat16(pick == 0 ? special(random)
                            : (float) random.nextDouble(-300, 300)));
                    break;
                case BFLOAT16:
                    buf.putShort(index, HalfFloats.floatToBfloat16(pick == 0 ? special(random)
                            : (float) random.nextDouble(-1e5, 1e5)));
                    break;
                default:
                    // Integers: random bits, plus extremes now and then.
                    final long bits = pick == 0 ? -1L : pick == 1 ? Long.MIN_VALUE : pick == 2 ? 0L
                            : random.nextLong();
                    writeBits(type, buf, index, pick == 1 ? Long.MIN_VALUE >> (64 - type.sizeBytes() * 8) : bits);
            }
        }

        private static float special(final SplittableRandom random) {
            final float[] specials = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1f, -1f};
            return specials[random.nextInt(specials.length)];
        }

        static void reference(final DataType type, final ReduceOp op, final ByteBuffer acc, final int accOffset,
                              final ByteBuffer in, final int inOffset, final int i) {
            final int a = accOffset + i * type.sizeBytes();
            final int b = inOffset + i * type.sizeBytes();
            switch (type) {
                case FLOAT32:
                    acc.putFloat(a, (float) combine(op, acc.getFloat(a), in.getFloat(b), false));
                    break;
                case FLOAT64:
                    acc.putDouble(a, combine(op, acc.getDouble(a), in.getDouble(b), true));
                    break;
                case FLOAT16:
                    acc.putShort(a, HalfFloats.floatToFloat16((float) combine(op,
                            HalfFloats.float16ToFloat(acc.getShort(a)), HalfFloats.float16ToFloat(in.getShort(b)),
                            false)));
                    break;
                case BFLOAT16:
                    acc.putShort(a, HalfFloats.floatToBfloat16((float) combine(op,
                            HalfFloats.bfloat16ToFloat(acc.getShort(a)), HalfFloats.bfloat16ToFloat(in.getShort(b)),
                            false)));
                    break;
                default:
                    writeBits(type, acc, a, combineIntegers(type, op, readInteger(type, acc, a),
                            readInteger(type, in, b)));
            }
        }

        /** x op y; in float precision when {@code !wide} (operands are floats then, so the rounding matches). */
        private static double combine(final ReduceOp op, final double x, final double y, final boolean wide) {
            switch (op) {
                case SUM:
                case AVG:
                    return wide ? x + y : (float) x + (float) y;
                case PROD:
                    return wide ? x * y : (float) x * (float) y;
                case MAX:
                case MIN:
                    if (Double.isNaN(x) || Double.isNaN(y)) {
                        return Double.NaN;
                    }
                    if (x == y) {
                        // Equal, possibly +0 and -0: MAX prefers +0, MIN prefers -0.
                        final boolean xNegativeZero = Double.doubleToRawLongBits(x) == Long.MIN_VALUE;
                        return (op == ReduceOp.MAX) == xNegativeZero ? y : x;
                    }
                    return (op == ReduceOp.MAX) == (x > y) ? x : y;
                default:
                    throw new IllegalArgumentException(op.toString());
            }
        }

        /** Values as longs: sign-extended for signed, zero-extended for unsigned (uint64 raw). */
        private static long readInteger(final DataType type, final ByteBuffer buf, final int index) {
            switch (type) {
                case INT8: return buf.get(index);
                case UINT8: return buf.get(index) & 0xFFL;
                case INT16: return buf.getShort(index);
                case UINT16: return buf.getShort(index) & 0xFFFFL;
                case INT32: return buf.getInt(index);
                case UINT32: return buf.getInt(index) & 0xFFFF_FFFFL;
                default: return buf.getLong(index);
            }
        }

        private static long combineIntegers(final DataType type, final ReduceOp op, final long x, final long y) {
            final boolean u64 = type == DataType.UINT64;
            switch (op) {
                case SUM:
                case AVG:
                    return unsignedBig(x, u64).add(unsignedBig(y, u64)).longValue();
                case PROD:
                    return unsignedBig(x, u64).multiply(unsignedBig(y, u64)).longValue();
                case MAX:
                    return (u64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) >= 0 ? x : y;
                case MIN:
                    return (u64 ? Long.compareUnsigned(x, y) : Long.compare(x, y)) <= 0 ? x : y;
                default:
                    throw new IllegalArgumentException(op.toString());
            }
        }

        private static BigInteger unsignedBig(final long v, final boolean u64) {
            final BigInteger big = BigInteger.valueOf(v);
            return u64 && v < 0 ? big.add(TWO_64) : big;
        }

        static void referenceDivide(final DataType type, final ByteBuffer buf, final int offset, final int i,
                                    final int divisor) {
            final int a = offset + i * type.sizeBytes();
            switch (type) {
                case FLOAT32:
                    buf.putFloat(a, buf.getFloat(a) / divisor);
                    break;
                case FLOAT64:
                    buf.putDouble(a, buf.getDouble(a) / divisor);
                    break;
                case FLOAT16:
                    buf.putShort(a, HalfFloats.floatToFloat16(HalfFloats.float16ToFloat(buf.getShort(a)) / divisor));
                    break;
                case BFLOAT16:
                    buf.putShort(a, HalfFloats.floatToBfloat16(HalfFloats.bfloat16ToFloat(buf.getShort(a))
                            / divisor));
                    break;
                default:
                    final long v = readInteger(type, buf, a);
                    // BigInteger.divide truncates toward zero.
                    writeBits(type, buf, a, unsignedBig(v, type == DataType.UINT64)
                            .divide(BigInteger.valueOf(divisor)).longValue());
            }
        }

        private static void writeBits(final DataType type, final ByteBuffer buf, final int index, final long v) {
            switch (type.sizeBytes()) {
                case 1: buf.put(index, (byte) v); break;
                case 2: buf.putShort(index, (short) v); break;
                case 4: buf.putInt(index, (int) v); break;
                default: buf.putLong(index, v);
            }
        }

        static boolean bothNaN(final DataType type, final ByteBuffer x, final ByteBuffer y, final int index) {
            return Double.isNaN(asDouble(type, x, index)) && Double.isNaN(asDouble(type, y, index));
        }

        private static double asDouble(final DataType type, final ByteBuffer buf, final int index) {
            switch (type) {
                case FLOAT32: return buf.getFloat(index);
                case FLOAT64: return buf.getDouble(index);
                case FLOAT16: return HalfFloats.float16ToFloat(buf.getShort(index));
                case BFLOAT16: return HalfFloats.bfloat16ToFloat(buf.getShort(index));
                default: return readInteger(type, buf, index);
            }
        }

        static String format(final DataType type, final ByteBuffer buf, final int index) {
            return type.isFloatingPoint() ? Double.toString(asDouble(type, buf, index))
                    : Long.toUnsignedString(readInteger(type, buf, index) & (type == DataType.UINT64
                    || type.sizeBytes() == 8 ? -1L : (1L << (type.sizeBytes() * 8)) - 1));
        }
    }
}
