package io.pccl.reduce;

import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The one place that touches {@code sun.misc.Unsafe}: resolves a {@link ByteBuffer} (heap, read-only heap or
 * direct) to a base object and a raw address so that the kernels can run plain loads and stores without the
 * per-element checks of {@code ByteBuffer.getFloat(int)}, which JMH shows to be 2-4x slower on JDK 17.
 *
 * <p>{@link #AVAILABLE} is true only when Unsafe can be obtained, the platform is little-endian and allows unaligned
 * access (x86-64, aarch64), and a self-check at class initialisation reads back values written through the
 * {@code ByteBuffer} API at the computed addresses, for heap, sliced, read-only and direct buffers. Otherwise the
 * kernels use their {@code ByteBuffer} loops. Callers must have validated every index against the buffer before
 * using an address, and must keep the buffer reachable (see {@link java.lang.ref.Reference#reachabilityFence})
 * until the raw accesses are done.
 *
 * <p>Thread-safe (immutable after class initialisation).
 */
final class RawMemory {
    /** True when the raw path may be used. */
    static final boolean AVAILABLE;
    /** The Unsafe instance; null when not {@link #AVAILABLE}. */
    static final sun.misc.Unsafe UNSAFE;
    private static final long ADDRESS_FIELD_OFFSET;
    private static final long HB_FIELD_OFFSET;

    static {
        sun.misc.Unsafe unsafe = null;
        long addressOffset = -1;
        long hbOffset = -1;
        boolean available = false;
        try {
            final String arch = System.getProperty("os.arch", "");
            final boolean unalignedOk = arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64");
            if (unalignedOk && ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
                final Field field = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
                field.setAccessible(true);
                unsafe = (sun.misc.Unsafe) field.get(null);
                addressOffset = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
                hbOffset = unsafe.objectFieldOffset(ByteBuffer.class.getDeclaredField("hb"));
                available = selfCheck(unsafe, addressOffset, hbOffset);
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            available = false;
        }
        AVAILABLE = available;
        UNSAFE = available ? unsafe : null;
        ADDRESS_FIELD_OFFSET = addressOffset;
        HB_FIELD_OFFSET = hbOffset;
    }

    private RawMemory() {
    }

    /**
     * The object raw accesses are relative to.
     *
     * @param buf a heap or direct buffer
     * @return the backing array of a heap buffer, null for a direct buffer
     */
    static Object base(final ByteBuffer buf) {
        return buf.isDirect() ? null : UNSAFE.getObject(buf, HB_FIELD_OFFSET);
    }

    /**
     * The raw address of index 0 of the buffer, relative to {@link #base(ByteBuffer)}.
     *
     * @param buf a heap or direct buffer
     * @return the address (an offset into the array for heap buffers)
     */
    static long address(final ByteBuffer buf) {
        return UNSAFE.getLong(buf, ADDRESS_FIELD_OFFSET);
    }

    private static boolean selfCheck(final sun.misc.Unsafe unsafe, final long addressOffset, final long hbOffset) {
        final ByteBuffer heap = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer slice = heap.position(5).slice().order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer readOnly = slice.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer direct = ByteBuffer.allocateDirect(64).order(ByteOrder.LITTLE_ENDIAN);
        final ByteBuffer directSlice = direct.position(3).slice().order(ByteOrder.LITTLE_ENDIAN);
        slice.putLong(7, 0x0102_0304_0506_0708L);
        directSlice.putLong(9, 0x1122_3344_5566_7788L);
        return check(unsafe, addressOffset, hbOffset, slice, 7, 0x0102_0304_0506_0708L)
                && check(unsafe, addressOffset, hbOffset, readOnly, 7, 0x0102_0304_0506_0708L)
                && check(unsafe, addressOffset, hbOffset, heap, 12, 0x0102_0304_0506_0708L)
                && check(unsafe, addressOffset, hbOffset, directSlice, 9, 0x1122_3344_5566_7788L)
                && check(unsafe, addressOffset, hbOffset, direct, 12, 0x1122_3344_5566_7788L);
    }

    private static boolean check(final sun.misc.Unsafe unsafe, final long addressOffset, final long hbOffset,
                                 final ByteBuffer buf, final int index, final long expected) {
        final Object base = buf.isDirect() ? null : unsafe.getObject(buf, hbOffset);
        if (buf.isDirect() == (base != null) || (!buf.isDirect() && !(base instanceof byte[]))) {
            return false;
        }
        final long address = unsafe.getLong(buf, addressOffset);
        return unsafe.getLong(base, address + index) == expected
                && unsafe.getFloat(base, address + index) == buf.getFloat(index)
                && unsafe.getShort(base, address + index + 1) == buf.getShort(index + 1);
    }
}
