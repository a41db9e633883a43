/**
 * {@code attach} and {@code detach}: the kernel's nbd device driven as nbd-client
 * drives it ({@code NbdDevice}), its ioctls behind an interface for tests
 * ({@code Ioctls}), on a socket the kernel can own ({@code FdSocket}).
 */
package org.bufcached.client.kernel;
