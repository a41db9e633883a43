/**
 * Dirty bitmaps (changed-block tracking): per export, named bitmaps that record
 * every range changed by WRITE, TRIM and WRITE_ZEROES, kept in small mmapped
 * files beside the export's file so that they survive a crash of the daemon, and
 * synced before the data at FLUSH and FUA so that they survive a crash of the host.
 * Served to clients as the metadata context {@code qemu:dirty-bitmap:NAME}.
 */
package org.bufcached.daemon.bitmap;
