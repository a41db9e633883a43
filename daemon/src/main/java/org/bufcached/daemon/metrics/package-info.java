/**
 * What the daemon tells Prometheus, and the endpoint that serves it: one
 * registry ({@link org.bufcached.daemon.metrics.DaemonMeters}) that every part
 * registers in, per-export series that follow the exports through reloads
 * ({@link org.bufcached.daemon.metrics.ExportMeters}), request meters reached
 * without allocation on the event loops, and {@code /metrics}, {@code /healthz}
 * and {@code /readyz} on a loop of their own. Series are named by meaning with
 * their unit; the README lists them, and {@code monitoring/} builds on them.
 */
package org.bufcached.daemon.metrics;
