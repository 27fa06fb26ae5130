/**
 * The peer's side of the peer-to-peer plane: the single {@link io.pccl.internal.p2p.PeerListener} port whose first
 * frame (the hello) decides what a connection is for, the incoming pool registry, and the outgoing
 * {@link io.pccl.internal.p2p.P2PPools} each peer dials to its ring successor. The ring engine binds to
 * {@link io.pccl.internal.p2p.P2PConnections} and installs its data-plane handlers through
 * {@link io.pccl.internal.p2p.DataPlaneInitializer}; shared-state and benchmark servers plug in as
 * {@link io.pccl.internal.p2p.RoleHandler}s. Not API.
 */
package io.pccl.internal.p2p;
