/** The Debian package installed, used and removed on the machine that built it. */
package org.bufcached.packaging;
