package org.bufcached.daemon.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The daemon's admin API spoken by hand: one HTTP/1.1 request per connection
 * over the admin unix socket, the reply read to the end of the stream (the
 * daemon answers and closes). The daemon's tests use this rather than
 * {@code bufcache admin}, which the client module tests against the daemon.
 */
public final class AdminSocket {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path socket;

    public AdminSocket(Path socket) {
        this.socket = socket;
    }

    /** An answer: its HTTP status, its JSON body, and the whole response as text for failure messages. */
    public record Answer(int status, JsonNode body, String response) {
        /** The body's {@code "error"}, or "" if it has none. */
        public String error() {
            return body.path("error").asText("");
        }

        /** This answer, after failing the test with the whole response unless the status is {@code expected}. */
        public Answer expect(int expected) {
            if (status != expected) {
                throw new AssertionError("expected HTTP status " + expected + ", got:\n" + response);
            }
            return this;
        }
    }

    public Answer get(String path) throws IOException {
        return request("GET", path, "");
    }

    public Answer post(String path, String body) throws IOException {
        return request("POST", path, body);
    }

    public Answer delete(String path) throws IOException {
        return request("DELETE", path, "");
    }

    /** Any method and body, valid or not. */
    public Answer request(String method, String path, String body) throws IOException {
        byte[] content = body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + content.length + "\r\n\r\n";
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.wrap((head + body).getBytes(StandardCharsets.UTF_8));
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (ch.read(in.clear()) >= 0) {
                received.write(in.array(), 0, in.position());
            }
        }
        return parse(received.toString(StandardCharsets.UTF_8));
    }

    private static Answer parse(String response) throws IOException {
        int headEnd = response.indexOf("\r\n\r\n");
        String[] statusLine = response.split(" ", 3);
        if (headEnd < 0 || statusLine.length < 3 || !statusLine[0].equals("HTTP/1.1")) {
            throw new AssertionError("not an HTTP/1.1 response:\n" + response);
        }
        if (!response.toLowerCase(java.util.Locale.ROOT).contains("\r\ncontent-type: application/json\r\n")) {
            throw new AssertionError("not a JSON response:\n" + response);
        }
        return new Answer(Integer.parseInt(statusLine[1]), JSON.readTree(response.substring(headEnd + 4)), response);
    }
}
