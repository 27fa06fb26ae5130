/**
 * The engine behind {@link io.pccl.Communicator}: {@link io.pccl.internal.client.PeerSession} owns one
 * communicator's event-loop group, master connection, peer listener and p2p pools, and runs the membership
 * sequences (connect, update topology, pending-peers query) as bounded blocking calls. Not API.
 */
package io.pccl.internal.client;
