/**
 * An asynchronous NBD client on Netty: {@link org.bufcached.client.NbdClient} connects (TCP or
 * Unix socket, {@link org.bufcached.client.NbdUri}), negotiates ({@code Negotiator}, STARTTLS by
 * {@code ClientTls}) and sends pipelined requests that the server may answer in any order
 * ({@code TransmissionHandler}, {@code Command}). Each connection lives on one event loop, where
 * its replies complete their futures or {@link org.bufcached.client.ReplyCallback}s; requests may
 * be sent from any thread. A WRITE's payload is a buffer, or on a plaintext connection a range
 * of a file that the kernel sends (sendfile).
 */
package org.bufcached.client;
