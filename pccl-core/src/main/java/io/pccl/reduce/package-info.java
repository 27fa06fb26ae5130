/**
 * Element-wise reduction kernels used by the ring all-reduce: {@link io.pccl.reduce.ReduceKernels} combines a
 * received slice into an accumulator for every {@link io.pccl.DataType} and {@link io.pccl.ReduceOp} and finishes
 * averages, and {@link io.pccl.reduce.HalfFloats} converts float16 and bfloat16 to and from float32. The kernels are
 * pure functions over little-endian {@link java.nio.ByteBuffer} views: no I/O, no threads, no allocation on the
 * hot path, so the engine may call them from any thread that owns the buffers.
 */
package io.pccl.reduce;
