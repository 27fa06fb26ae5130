/**
 * The public API of pccl-java: {@link io.pccl.Communicator} joins a run coordinated by a master, all-reduces
 * buffers over a ring of peers and keeps shared state bit-identical; errors are {@link io.pccl.PcclException}s
 * carrying a {@link io.pccl.PcclException.Code}.
 */
package io.pccl;
