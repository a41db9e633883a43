package org.bufcached.client.cli;

/** A usage error found after parsing (e.g. an argument that does not suit the export): exit code 2. */
final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
