package io.pccl.ring.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.pccl.DataType;
import io.pccl.PcclException;
import io.pccl.ReduceDescriptor;
import io.pccl.ReduceOp;
import io.pccl.ring.RingAllReduce;
import io.pccl.ring.RingOpContext;
import io.pccl.ring.RingOperation;
import io.pccl.ring.RingTestAccess;
import io.pccl.ring.internal.RingSchedule;
import io.pccl.testing.ByteBufLeakWatch;
import io.pccl.transport.data.DataFrameFlyweight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A third connection into a ring peer's data port, claiming to be its predecessor (nothing on the data plane
 * authenticates a dialer), sends seeded random frames while a real all-reduce runs over loopback TCP: garbage,
 * corrupt headers (magic, version, stage, flags including the receiver's local-only placed flag), oversized lengths,
 * frames of the running operation off and on its schedule, aborts, frames of unknown operations, and frames cut
 * short. Whatever arrives, every peer's operation must end within a bound, either with the exact result or with a
 * {@link PcclException}; a failed in-place operation must have its input back; no operation stays registered; and
 * frames of operations that are not running must not disturb the one that is; and no buffer leaks (Netty's leak
 * detector, see {@link ByteBufLeakWatch}).
 *
 * <p>Runs on the test thread.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HostileDataConnectionTest {
    private static final long SEED = 0x5EEDL;
    private static final int W = 3;
    private static final int VICTIM = 1;
    private static final int SLICE = 16 << 10;
    private static final int ROUNDS = 24;
    private static final int KINDS = 11;
    private static final int UNKNOWN_OPERATION = 9;
    private static final long TAG = 5;

    @Test
    void everyOperationEndsExactOrWithATypedErrorWhateverAThirdConnectionSends() throws Exception {
        System.out.println("HostileDataConnectionTest seed " + SEED);
        final Random rnd = new Random(SEED);
        int failedRounds = 0;
        try (ByteBufLeakWatch watch = new ByteBufLeakWatch()) {
            try (RingAllReduce engine = RingAllReduce.builder().sliceBytes(SLICE)
                    .progressTimeout(Duration.ofSeconds(3)).completeOnTransportThreads(true).build()) {
                for (int round = 0; round < ROUNDS; round++) {
                    if (!runRound(engine, rnd, round)) {
                        failedRounds++;
                    }
                }
            }
            final List<String> leaks = watch.leaks();
            assertTrue(leaks.isEmpty(), () -> leaks.size() + " buffers leaked, the first: " + leaks.get(0));
        }
        // Both outcomes must occur (a corrupt header fails a round, frames of unknown operations must not), or the
        // test would show only half of what it claims.
        System.out.println("HostileDataConnectionTest: " + failedRounds + " of " + ROUNDS + " rounds failed");
        assertTrue(failedRounds > 0 && failedRounds < ROUNDS, failedRounds + " of " + ROUNDS + " rounds failed");
    }

    /** One ring, one operation on every peer, one hostile connection into the victim. Returns whether it succeeded. */
    private static boolean runRound(final RingAllReduce engine, final Random rnd, final int round) throws Exception {
        final int count = 20_000 + rnd.nextInt(100_000);
        final boolean inPlace = rnd.nextBoolean();
        // The first rounds send one frame of each kind alone, the others a random mix.
        final int[] kinds = new int[round < KINDS ? 1 : 1 + rnd.nextInt(6)];
        boolean onlyUnknownOperations = true;
        for (int i = 0; i < kinds.length; i++) {
            kinds[i] = round < KINDS ? round : rnd.nextInt(KINDS);
            onlyUnknownOperations &= kinds[i] == UNKNOWN_OPERATION;
        }
        final long seq = 100 + round;
        final String what = "round " + round + " (count " + count + (inPlace ? ", in place" : "") + ", kinds "
                + Arrays.toString(kinds) + ")";
        final ByteBuffer[] inputs = RingTestAccess.inputs(DataType.INT32, count, W, SEED + round);
        final ByteBuffer expected = RingTestAccess.expected(DataType.INT32, ReduceOp.SUM, inputs, count);
        final ByteBuffer[] send = new ByteBuffer[W];
        final ByteBuffer[] recv = new ByteBuffer[W];
        final RingOperation[] ops = new RingOperation[W];
        try (TcpRing net = new TcpRing(W, 1, SLICE);
             Socket hostile = new Socket()) {
            hostile.connect(net.servers[VICTIM].localAddress(), 5000);
            hostile.setTcpNoDelay(true);
            // The victim and its predecessor start; the third peer starts once the hostile frames are out, so that
            // they meet the operation while it still waits for data.
            for (final int r : new int[] {0, VICTIM, 2}) {
                if (r == 2) {
                    sendHostileFrames(hostile, rnd, kinds, seq, count);
                }
                send[r] = RingTestAccess.copyOf(inputs[r]);
                recv[r] = inPlace ? send[r] : ByteBuffer.allocateDirect(count * 4).order(ByteOrder.LITTLE_ENDIAN);
                ops[r] = engine.start(new RingOpContext(ring(), r, seq,
                        ReduceDescriptor.of(count, DataType.INT32, ReduceOp.SUM).tag(TAG), send[r], recv[r],
                        net.transports[r]));
            }
            boolean allSucceeded = true;
            for (int r = 0; r < W; r++) {
                try {
                    ops[r].future().get(20, TimeUnit.SECONDS);
                    assertEquals(expected, recv[r].duplicate().clear(), what + ": rank " + r + " succeeded");
                } catch (final ExecutionException e) {
                    allSucceeded = false;
                    assertInstanceOf(PcclException.class, e.getCause(), what + ": rank " + r);
                    if (inPlace) {
                        assertEquals(inputs[r], send[r].duplicate().clear(), what + ": rank " + r + " restored");
                    }
                }
            }
            if (onlyUnknownOperations) {
                assertTrue(allSucceeded, what + ": frames of operations that are not running broke this one");
            }
            for (int r = 0; r < W; r++) {
                assertEquals(0, net.routers[r].registeredOperations(), what + ": rank " + r);
            }
            hostile.close();
            // Its connection closed: the victim forgets whatever it parked for operations that never ran.
            RingTestAccess.awaitUntil(() -> net.routers[VICTIM].parkedFrames() == 0, what + ": parked frames freed");
            return allSucceeded;
        }
    }

    private static void sendHostileFrames(final Socket hostile, final Random rnd, final int[] kinds, final long seq,
                                          final int count) {
        final RingSchedule schedule = new RingSchedule(count, 4, W, VICTIM);
        final int firstChunk = schedule.recvChunk(0);
        final int firstLen = Math.min(SLICE, schedule.chunkBytes(firstChunk));
        final ByteBuf out = Unpooled.buffer();
        for (final int kind : kinds) {
            final int at = out.writerIndex();
            final int len = 4 * (1 + rnd.nextInt(SLICE / 4));
            switch (kind) {
                case 0: // garbage
                    out.writeBytes(randomBytes(rnd, 1 + rnd.nextInt(200)));
                    break;
                case 1: // wrong magic
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, firstChunk, 0, len);
                    out.setByte(at + DataFrameFlyweight.MAGIC_OFFSET, 0x5A);
                    break;
                case 2: // wrong version
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, firstChunk, 0, len);
                    out.setByte(at + DataFrameFlyweight.VERSION_OFFSET, 2 + rnd.nextInt(250));
                    break;
                case 3: // flags, among them the receiver's local-only "payload already placed"
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, firstChunk, 0, len);
                    out.setByte(at + DataFrameFlyweight.FLAGS_OFFSET,
                            rnd.nextBoolean() ? DataFrameFlyweight.FLAG_PLACED : 1 + rnd.nextInt(255));
                    break;
                case 4: // unknown stage
                    frame(out, rnd, seq, rnd.nextBoolean() ? 0 : 5 + rnd.nextInt(250), 0, firstChunk, 0, len);
                    break;
                case 5: { // payload length over the limit, up to 2^32 - 1 (negative as an int)
                    final int over = rnd.nextBoolean() ? SLICE + 1 + rnd.nextInt(1 << 20) : -1 - rnd.nextInt(1000);
                    DataFrameFlyweight.writeHeader(out, seq, TAG, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0,
                            firstChunk, 0, over);
                    out.writeBytes(randomBytes(rnd, 64));
                    break;
                }
                case 6: // the running operation, any step, chunk, offset and length
                    frame(out, rnd, seq, 1 + rnd.nextInt(2), rnd.nextInt(2 * (W - 1) + 1), rnd.nextInt(W + 1) - 1,
                            rnd.nextBoolean() ? rnd.nextLong() : 4L * rnd.nextInt(SLICE), len - rnd.nextInt(4));
                    break;
                case 7: // the running operation's very next frame, with random contents
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, firstChunk, 0, firstLen);
                    break;
                case 8: // abort of the running operation
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_ABORT, 0, firstChunk, 0, 0);
                    break;
                case UNKNOWN_OPERATION: // a well-formed frame of an operation that never runs here
                    frame(out, rnd, seq + 1000 + rnd.nextInt(1000), DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0,
                            firstChunk, 0, len);
                    break;
                default: // a header promising more payload than follows (the connection stays open)
                    frame(out, rnd, seq, DataFrameFlyweight.STAGE_REDUCE_SCATTER, 0, firstChunk, 0, firstLen);
                    out.writerIndex(out.writerIndex() - 1 - rnd.nextInt(firstLen));
                    break;
            }
        }
        try {
            final OutputStream os = hostile.getOutputStream();
            os.write(out.array(), out.arrayOffset(), out.readableBytes());
            os.flush();
        } catch (final IOException e) {
            // The victim may already have closed the connection on a corrupt frame: that is one of the outcomes.
        } finally {
            out.release();
        }
    }

    /** Appends a header and {@code len} random payload bytes (no payload for a negative length). */
    private static void frame(final ByteBuf out, final Random rnd, final long seq, final int stage, final int step,
                              final int chunk, final long offset, final int len) {
        DataFrameFlyweight.writeHeader(out, seq, TAG, stage, step, chunk, offset, len);
        if (len > 0) {
            out.writeBytes(randomBytes(rnd, len));
        }
    }

    private static byte[] randomBytes(final Random rnd, final int n) {
        final byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static long[] ring() {
        final long[] ids = new long[W];
        for (int i = 0; i < W; i++) {
            ids[i] = 1 + i;
        }
        return ids;
    }
}
