/**
 * Netty plumbing shared by the master and the peers: event-loop and channel selection (native epoll where
 * available, NIO otherwise) and the bounded control-frame pipeline.
 */
package io.pccl.transport.netty;
