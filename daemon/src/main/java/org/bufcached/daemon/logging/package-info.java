/**
 * The {@code logging} section applied to Logback: the root level, the text or
 * JSON format (logstash-logback-encoder, with each line's key/value fields), or
 * an operator's own logback.xml.
 */
package org.bufcached.daemon.logging;
