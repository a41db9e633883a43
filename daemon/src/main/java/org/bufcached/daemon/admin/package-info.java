/**
 * The admin socket: a unix socket, mode 0600 unless configured otherwise,
 * serving a small JSON API over HTTP/1.1 for {@code bufcache admin}: exports with
 * their state and counters, connections (and closing one), dirty bitmaps (add,
 * clear, remove), and reload. Every request is logged with the asker's
 * SO_PEERCRED process and user.
 */
package org.bufcached.daemon.admin;
