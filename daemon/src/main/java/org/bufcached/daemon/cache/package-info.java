/**
 * The buffer cache, modeled on DragonFly BSD's vfs_bio and named after it:
 * buffer headers over mapped windows of the backing files, per-loop queue sets,
 * getnewbuf with its second chance and hysteresis, the flush daemons with their
 * clustered write-back, KVABIO's lazy per-thread validation of mappings, and the
 * durability of each file after I/O errors. It knows files and ranges, not NBD.
 * The concurrency contract is at the top of {@link org.bufcached.daemon.cache.BufCache}.
 */
package org.bufcached.daemon.cache;
