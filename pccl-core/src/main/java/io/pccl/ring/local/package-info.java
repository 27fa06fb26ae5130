/**
 * An in-memory {@link io.pccl.ring.RingTransport} for tests and single-process benchmarks: a
 * {@link io.pccl.ring.local.LocalRingNetwork} of W peers whose links copy each frame into a pooled buffer (as a
 * socket would) and deliver it to the successor's router, with fault injection (kill a peer, stall or drop a link).
 */
package io.pccl.ring.local;
