/**
 * Content hashes for shared-state entries: {@link io.pccl.hash.SimpleHash} (bit-compatible with the reference's
 * "simplehash", a fixed emulation of a 960-block by 256-thread GPU reduction) and {@link io.pccl.hash.Crc32c}
 * (CRC-32C, equal to {@link java.util.zip.CRC32C}). Both take heap or direct buffers at any offset (no alignment
 * requirement) and primitive arrays; entries larger than 2 GiB are hashed by streaming several buffers or
 * arrays into one {@link io.pccl.hash.SimpleHasher} or through {@link io.pccl.hash.SimpleHash#hash(
 * java.nio.ByteBuffer[])}. {@link io.pccl.hash.HashType} names the algorithm on the wire.
 */
package io.pccl.hash;
