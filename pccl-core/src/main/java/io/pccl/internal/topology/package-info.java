/**
 * Peer-to-peer bandwidth measurement for topology optimization: {@link io.pccl.internal.topology.BandwidthServer}
 * receives {@code ROLE_BENCHMARK} connections on the peer port (one measuring peer at a time) and confirms the bytes
 * it received; {@link io.pccl.internal.topology.BandwidthProbe} sends to another peer over parallel streams for a
 * fixed duration and reports the receiver-confirmed throughput in Mbit/s, which the master uses to order the ring.
 * Not API.
 */
package io.pccl.internal.topology;
