/**
 * NBD's commands on an export's file, over the buffer cache: flags (FUA,
 * NO_HOLE, FAST_ZERO), extents as {@code base:allocation} descriptors, and the
 * one mapping from a failure to an NBD error; the exports by name.
 */
package org.bufcached.daemon.export;
