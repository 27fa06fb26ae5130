/**
 * Helpers shared by the public API and the internal packages below it; not API, may change without notice.
 */
package io.pccl.internal;
