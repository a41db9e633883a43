/**
 * The I/O engine: each event loop's file operations, completed on that loop.
 * io_uring submits them to the loop's own ring (Netty 4.2's public io_uring API);
 * the fallback engine runs the same system calls on a small pool.
 */
package org.bufcached.daemon.io;
