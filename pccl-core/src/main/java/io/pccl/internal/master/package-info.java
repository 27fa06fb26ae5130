/**
 * The peer's side of the master protocol: the Netty client channel to the master, the hello/registration
 * handshake, heartbeats and liveness, and the {@link io.pccl.internal.master.MasterDispatcher} that hands inbound
 * envelopes from the event loop to the (blocking, bounded) callers of {@link io.pccl.Communicator}. Not API.
 */
package io.pccl.internal.master;
