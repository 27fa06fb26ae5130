/**
 * The data plane's wire format: a fixed little-endian frame header ({@link io.pccl.transport.data.DataFrameFlyweight})
 * followed by raw little-endian payload, and the bounded, zero-copy frame decoder
 * ({@link io.pccl.transport.data.DataFrameDecoder}). Ring chunks never travel as protobuf and are never copied into
 * {@code byte[]}-backed messages: inbound frames are retained slices of the receive buffer, outbound payloads are
 * separate buffers (slices of the caller's memory) written after a small pooled header.
 */
package io.pccl.transport.data;
