/**
 * The pipelined ring all-reduce engine. {@link io.pccl.ring.RingAllReduce} runs operations described by a
 * {@link io.pccl.ring.RingOpContext} over a {@link io.pccl.ring.RingTransport}, a small SPI (a
 * {@link io.pccl.ring.RingLink} to the ring successor per pool connection, and an {@link io.pccl.ring.InboundRouter}
 * that demultiplexes the predecessor's frames by operation sequence and tag). The engine never touches sockets: the
 * Netty implementation lives in {@code io.pccl.ring.tcp}, an in-memory one with fault injection in
 * {@code io.pccl.ring.local}. Reduction and copying run on the engine's own threads, never on an event loop.
 * Every routed frame carries a {@link io.pccl.ring.FrameCredit} that gets its bytes back once the engine consumed
 * or dropped it, which lets a transport bound what it buffers for the engine (receive-side flow control).
 */
package io.pccl.ring;
