package org.bufcached.daemon.admin;

import java.util.Map;

/** What the admin API answers: an HTTP status and a JSON body, and a few words for the log line. */
record AdminResponse(int status, Object body, String summary) {

    static AdminResponse ok(Object body, String summary) {
        return new AdminResponse(200, body, summary);
    }

    /** An error: {@code {"error": message}}; nothing was changed. */
    static AdminResponse error(int status, String message) {
        return new AdminResponse(status, Map.of("error", message), "error: " + message);
    }
}
