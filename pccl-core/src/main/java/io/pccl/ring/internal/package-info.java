/**
 * Internals of the ring engine, not API: the chunk/step schedule ({@link io.pccl.ring.internal.RingSchedule}) and
 * the per-operation state machine ({@link io.pccl.ring.internal.RingOpRunner}) that runs serially on the engine's
 * executor, fed by a small mailbox of frames and signals.
 */
package io.pccl.ring.internal;
