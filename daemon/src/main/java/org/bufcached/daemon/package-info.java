/**
 * The bufcached daemon: the command line ({@link org.bufcached.daemon.Main}) and
 * the lifecycle ({@link org.bufcached.daemon.Daemon}: start, reload, a bounded
 * stop). The layers below go one way: {@code net} (Netty handlers) over
 * {@code export} (NBD semantics) over {@code cache} (the buffer cache) over
 * {@code io} (the I/O engine) and {@code store} (the system calls); see
 * ARCHITECTURE.md at the repository's root.
 */
package org.bufcached.daemon;
