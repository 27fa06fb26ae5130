/**
 * The client side of collectives: the per-operation protocol with the master (initiate, commence, complete,
 * abort, done) around the ring engine of {@code io.pccl.ring}, the binding of the engine's TCP transport to the
 * communicator's peer-to-peer pools, and the retry loop behind {@code Communicator.allReduceMultipleWithRetry}.
 * Internal: not API.
 */
package io.pccl.internal.collective;
