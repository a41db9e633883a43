package org.bufcached.client.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One request to the admin socket per call: the daemon answers with a JSON
 * document and closes the connection, so the reply is everything up to the end
 * of the stream (HTTP/1.1 with {@code Connection: close}).
 */
public final class AdminClient {
    private final Path socket;
    private final ObjectMapper json = new ObjectMapper();

    public AdminClient(Path socket) {
        this.socket = socket;
    }

    /** A reply: the HTTP status, and the JSON body ({@code {"error": ...}} for a status of 400 or more). */
    public record Reply(int status, JsonNode body, String text) {
        public boolean ok() {
            return status < 400;
        }

        /** The daemon's error message. */
        public String error() {
            return body.path("error").asText("HTTP status " + status);
        }
    }

    public Reply get(String path) throws IOException {
        return send("GET", path, null);
    }

    public Reply post(String path, Object body) throws IOException {
        return send("POST", path, body == null ? null : json.writeValueAsString(body));
    }

    public Reply delete(String path) throws IOException {
        return send("DELETE", path, null);
    }

    private Reply send(String method, String path, String body) throws IOException {
        byte[] content = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + path + " HTTP/1.1\r\nHost: bufcached\r\nConnection: close\r\n"
                + (content.length > 0 ? "Content-Type: application/json\r\n" : "")
                + "Content-Length: " + content.length + "\r\n\r\n";
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            ByteBuffer out = ByteBuffer.allocate(head.length() + content.length);
            out.put(head.getBytes(StandardCharsets.US_ASCII)).put(content).flip();
            while (out.hasRemaining()) {
                ch.write(out);
            }
            ByteBuffer in = ByteBuffer.allocate(8192);
            while (ch.read(in.clear()) >= 0) {
                received.write(in.array(), 0, in.position());
            }
        } catch (IOException e) {
            throw new IOException(connectFailure(e), e);
        }
        return parse(received.toString(StandardCharsets.UTF_8));
    }

    private Reply parse(String response) throws IOException {
        int headEnd = response.indexOf("\r\n\r\n");
        String[] status = response.split(" ", 3);
        if (headEnd < 0 || status.length < 2 || !status[0].startsWith("HTTP/")) {
            throw new IOException("the admin socket " + socket + " did not answer HTTP");
        }
        String text = response.substring(headEnd + 4);
        return new Reply(Integer.parseInt(status[1]), json.readTree(text.isEmpty() ? "{}" : text), text);
    }

    /** Why the socket could not be reached, with what to do. */
    private String connectFailure(IOException e) {
        String message = String.valueOf(e.getMessage());
        if (!Files.exists(socket)) {
            return "no admin socket at " + socket + " (is bufcached running with admin.path set? --socket PATH)";
        }
        if (e instanceof AccessDeniedException || message.contains("Permission denied")) {
            return "permission denied on " + socket + " (the admin socket is for the daemon's user: "
                    + "run as that user or root, or set admin.mode)";
        }
        if (message.contains("Connection refused")) {
            return "connection refused on " + socket + " (a stale socket: is bufcached running?)";
        }
        return "admin socket " + socket + ": " + message;
    }
}
