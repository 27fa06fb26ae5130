/**
 * The Netty implementation of {@link io.pccl.ring.RingTransport}: {@link io.pccl.ring.tcp.TcpRingTransport} writes
 * frames to the successor's pool of channels (header in a small pooled buffer, payload as a separate zero-copy
 * buffer, batched onto the event loop and obeying channel writability) and receives the predecessor's frames
 * through a zero-copy frame assembler and {@link io.pccl.ring.tcp.DataFrameInboundHandler}, which pauses reading
 * while too many received bytes wait for the engine.
 */
package io.pccl.ring.tcp;
