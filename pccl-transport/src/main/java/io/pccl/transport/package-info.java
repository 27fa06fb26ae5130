/**
 * The wire: protocol constants, bounded control-frame codecs, the binary data-frame header and the Netty
 * bootstraps shared by the master and the peers. Nothing here knows about collective semantics.
 */
package io.pccl.transport;
