/**
 * The backing store's system calls through jnr-ffi: checked ({@code Posix},
 * {@code BackingFile}, {@code MappedWindow}) or raw, as a ring would answer them
 * ({@code Syscalls}); and what the kernel does with a buffered write, which
 * decides whether an event loop may make one itself: whether it can wait for the
 * disk ({@code PageCacheWrites}) and whether the kernel would throttle it
 * ({@code KernelDirty}). Linux on x86_64 and aarch64.
 */
package org.bufcached.daemon.store;
