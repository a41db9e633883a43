package org.bufcached.client;

import io.netty.handler.codec.DecoderException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.bufcached.protocol.NbdProtocolException;

/** Unwraps the layers that futures and Netty put around an error, for one-line messages. */
public final class Errors {
    private Errors() {
    }

    /** The error that matters: without CompletionException, ExecutionException or a bare DecoderException around it. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && (c instanceof CompletionException || c instanceof ExecutionException
                || c instanceof DecoderException && !(c instanceof NbdProtocolException))) {
            c = c.getCause();
        }
        return c;
    }

    /**
     * Why a connection could not be made, in a person's words rather than the
     * JDK's or Netty's ("finishConnect(..) failed with error(-111): Connection
     * refused: /127.0.0.1:1"), with a hint at the usual cause.
     */
    public static String connectFailure(NbdUri uri, Throwable t) {
        Throwable c = unwrap(t);
        String text = String.valueOf(c.getMessage()).toLowerCase(java.util.Locale.ROOT);
        String where = uri.isUnix() ? uri.socketPath() : uri.host() + ":" + uri.port();
        if (c instanceof java.io.FileNotFoundException || text.contains("no such file")) {
            return "no socket at " + where + " (is bufcached running? its socket is " + NbdUri.DEFAULT_SOCKET + ")";
        }
        if (text.contains("connection refused")) {
            return uri.isUnix() ? "nothing listens on " + where + " (a stale socket file?)"
                    : "connection refused: nothing listens on " + where + " (is bufcached running there?)";
        }
        if (c instanceof java.net.UnknownHostException || text.contains("unresolved")) {
            return "unknown host " + uri.host();
        }
        if (text.contains("permission denied")) {
            return "permission denied on " + where + " (the socket's group, bufcached, may connect)";
        }
        if (c instanceof io.netty.channel.ConnectTimeoutException || text.contains("timed out")) {
            return "no answer from " + where + " within 10 s";
        }
        if (text.contains("network is unreachable") || text.contains("no route to host")) {
            return "no route to " + where;
        }
        return message(c);
    }

    /** Why a local file could not be opened, without the exception's class name. */
    public static String fileFailure(java.io.IOException e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.FileSystemException && ((java.nio.file.FileSystemException) e).getReason() != null) {
            return ((java.nio.file.FileSystemException) e).getReason().toLowerCase(java.util.Locale.ROOT);
        }
        return message(e);
    }

    /** The message of {@link #unwrap}, or its class name when it has none. */
    public static String message(Throwable t) {
        Throwable c = unwrap(t);
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
