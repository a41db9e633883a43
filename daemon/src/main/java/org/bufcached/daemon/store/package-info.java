/**
 * The backing store's system calls through jnr-ffi: checked ({@code Posix},
 * {@code BackingFile}, {@code MappedWindow}) or raw, as a ring would answer them
 * ({@code Syscalls}). Linux on x86_64 and aarch64.
 */
package org.bufcached.daemon.store;
