/**
 * Shared-state synchronisation (not API): {@link io.pccl.state.internal.SharedStateSync} runs
 * {@code Communicator.syncSharedState} (vote, fetch, complete, done) against the master;
 * {@link io.pccl.state.internal.SharedStateServer} answers
 * {@code ROLE_SHARED_STATE} connections on the peer port by streaming entries zero-copy from the caller's
 * memory, and {@link io.pccl.state.internal.SharedStateFetcher} fetches named entries from a distributor straight
 * into the receiver's entries, then verifies their hashes off the event loop. The wire format is described in
 * {@code docs/shared-state.md}.
 */
package io.pccl.state.internal;
