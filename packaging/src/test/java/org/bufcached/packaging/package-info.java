/** The Debian package installed, used and removed on the machine that built it; the launchers it ships. */
package org.bufcached.packaging;
