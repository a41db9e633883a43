/**
 * Test fixtures shared with the daemon's and the client's tests through this
 * module's test jar: certificate directories and PSK files made with GnuTLS's
 * certtool and psktool (and OpenSSL for a second, untrusted authority).
 */
package org.bufcached.tls.testing;
