/**
 * The master's shared-state election, a pure deterministic function of one group's sync votes: it checks
 * revisions, strategies and key sets, elects the most popular content among the up-to-date candidates (ties to
 * the lowest peer id), and tells each voter to distribute, to fetch named keys from a list of distributors, or
 * that its sync failed and why. No protobuf, no clock, no I/O: the master's state machine converts its wire
 * messages into {@link io.pccl.master.state.election.SyncVote}s and the
 * {@link io.pccl.master.state.election.ElectionResult} back into responses.
 */
package io.pccl.master.state.election;
