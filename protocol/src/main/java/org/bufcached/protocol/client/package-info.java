/**
 * The client side of the NBD wire format as Netty handlers: handshake encoder and
 * decoder, request encoder (compact or extended headers) and reply decoder
 * (simple replies, structured or extended reply chunks), each the inverse of its
 * server counterpart. Nothing here keeps requests in flight; the client library
 * does.
 */
package org.bufcached.protocol.client;
