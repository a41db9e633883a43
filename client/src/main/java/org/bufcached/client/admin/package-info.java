/** A client of bufcached's admin socket: HTTP/1.1 requests with JSON bodies over a unix socket. */
package org.bufcached.client.admin;
