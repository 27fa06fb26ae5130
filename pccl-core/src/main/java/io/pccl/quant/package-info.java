/**
 * Wire quantization for the ring all-reduce: {@link io.pccl.quant.MinMaxQuantizer} maps a chunk of float32 or
 * float64 values linearly onto an unsigned integer type using the chunk's minimum and maximum
 * ({@link io.pccl.quant.MinMaxMeta}), rounding to nearest, and maps it back deterministically so that every peer
 * that dequantizes the same bytes with the same metadata obtains bit-identical values. Pure functions over
 * little-endian {@link java.nio.ByteBuffer} views; no I/O, no threads, no allocation per slice.
 */
package io.pccl.quant;
