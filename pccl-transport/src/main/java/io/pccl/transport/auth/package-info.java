/**
 * Shared-key authentication of every connection: a challenge-response handshake, run by a handler at the head of
 * the pipeline before any protocol byte, in which both sides prove they hold the same key without sending it.
 * The wire format and its guarantees are in {@code docs/protocol.md}, "Authentication".
 */
package io.pccl.transport.auth;
