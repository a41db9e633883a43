/**
 * POSIX calls the JDK does not offer, through jnr-ffi ({@code Libc}): the holes of a file
 * ({@code Holes}), whether a descriptor is a terminal and how wide, and the plain socket,
 * reads, writes and ioctls of {@code attach}.
 */
package org.bufcached.client.sys;
