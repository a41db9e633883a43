/**
 * The server side of the NBD wire format as Netty handlers: the handshake
 * decoder and encoder, the request decoder with its payload memory budget, its
 * read gate and the receive allocator that reads payloads in place, the reply writers, and the bounds past which announced lengths end
 * a connection. Nothing here knows of files, exports or the cache.
 */
package org.bufcached.protocol.server;
