/**
 * Reloading the configuration (SIGHUP): compare, open what is new first so a
 * failure changes nothing, apply live settings, drain and close what left.
 */
package org.bufcached.daemon.reload;
