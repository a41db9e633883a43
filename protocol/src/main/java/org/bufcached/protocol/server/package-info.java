/**
 * The server side of the NBD wire format as Netty handlers: the handshake
 * decoder and encoder, the request decoder with its payload memory budget and
 * read gate, the reply writers, and the bounds past which announced lengths end
 * a connection. Nothing here knows of files, exports or the cache.
 */
package org.bufcached.protocol.server;
