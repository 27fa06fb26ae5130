/**
 * The pccl master server: the embeddable {@link io.pccl.master.Master} (builder, start, port, close), the
 * {@link io.pccl.master.MasterMain} command-line daemon, and the Netty adapter around the pure state machine of
 * {@code io.pccl.master.state}: per-channel handlers decode and validate frames and hand every event to one
 * conductor thread, which owns the state machine and turns its outbox calls into protobuf envelopes. The conductor
 * thread is an I/O event loop, so events of the connections it serves need no thread hand-off.
 */
package io.pccl.master;
