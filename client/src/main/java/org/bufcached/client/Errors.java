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

    /** The message of {@link #unwrap}, or its class name when it has none. */
    public static String message(Throwable t) {
        Throwable c = unwrap(t);
        return c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage();
    }
}
