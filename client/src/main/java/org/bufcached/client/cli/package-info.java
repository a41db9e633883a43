/**
 * The {@code bufcache} tool: picocli subcommands ({@code BufcacheMain} and the
 * {@code *Command} classes), the copy ({@code Copier} over two {@code Endpoint}s, a file
 * or an export, in {@code Pipeline} lanes), the load generator of {@code bench}, and
 * the progress line and output formats they share.
 */
package org.bufcached.client.cli;
