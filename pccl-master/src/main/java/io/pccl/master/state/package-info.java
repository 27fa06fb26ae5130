/**
 * The master's pure logic: {@link io.pccl.master.state.MasterStateMachine} tracks peers, per-group votes
 * (establishment rounds, pending-peers queries, shared-state syncs, one vote kind at a time) and per-group
 * collectives, and emits its decisions through
 * {@link io.pccl.master.state.MasterOutbox} using the domain types of this package. Nothing here touches
 * threads, sockets, clocks or protobuf; time arrives as {@code nowNs} arguments, so every behaviour can be
 * tested in virtual time and replayed deterministically.
 */
package io.pccl.master.state;
