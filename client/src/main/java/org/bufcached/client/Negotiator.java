package org.bufcached.client;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.bufcached.protocol.ExportNameReply;
import org.bufcached.protocol.GoRequest;
import org.bufcached.protocol.InvalidOptionException;
import org.bufcached.protocol.MetaContextRequest;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdProtocolException;
import org.bufcached.protocol.OptionReplies;
import org.bufcached.protocol.OptionReply;
import org.bufcached.protocol.ServerGreeting;

/**
 * The order of options in the fixed newstyle handshake, as future chains over a
 * {@link HandshakeHandler}: {@link #go} enters transmission (extended headers, or
 * structured replies when the server refuses those, SET_META_CONTEXT, then
 * NBD_OPT_GO with an NBD_INFO_BLOCK_SIZE request, falling back to
 * NBD_OPT_EXPORT_NAME when the server does not know GO, unless extended headers
 * were negotiated: the spec forbids EXPORT_NAME then); {@link #list} and
 * {@link #info} query the server and end with NBD_OPT_ABORT.
 */
final class Negotiator {
    private static final int[] INFO_REQUESTS = {Nbd.NBD_INFO_NAME, Nbd.NBD_INFO_DESCRIPTION, Nbd.NBD_INFO_BLOCK_SIZE};

    private final HandshakeHandler handshake;
    private final ClientOptions options;
    /** Empty for a plaintext connection. */
    private final Optional<ClientTls> tls;
    private boolean fixedNewstyle;
    private boolean noZeroes;
    private boolean structured;
    private boolean extended;

    Negotiator(HandshakeHandler handshake, ClientOptions options, Optional<ClientTls> tls) {
        this.handshake = handshake;
        this.options = options;
        this.tls = tls;
    }

    /** Negotiates and enters the transmission phase on {@code exportName}. */
    CompletableFuture<ExportInfo> go(String exportName) {
        return greet().thenCompose(v -> replyChunks())
                .thenCompose(v -> setMetaContexts(exportName))
                .thenCompose(contexts -> goOrExportName(exportName, contexts));
    }

    /** The exports of NBD_OPT_LIST; aborts the session afterwards. */
    CompletableFuture<List<OptionReplies.ServerEntry>> list() {
        return greet().thenCompose(v -> {
            requireFixedNewstyle("NBD_OPT_LIST");
            return handshake.option(Nbd.NBD_OPT_LIST, Unpooled.EMPTY_BUFFER);
        }).thenCompose(r -> {
            if (!r.acked()) {
                throw r.refusal();
            }
            List<OptionReplies.ServerEntry> exports = new ArrayList<>();
            for (OptionReply reply : r.replies()) {
                if (reply.type() == Nbd.NBD_REP_SERVER) {
                    exports.add(parse(() -> OptionReplies.parseServer(reply.content())));
                }
            }
            return abort().thenApply(x -> exports);
        });
    }

    /**
     * NBD_OPT_INFO on {@code exportName} plus NBD_OPT_LIST_META_CONTEXT with no query
     * (all contexts the server has for it); aborts the session afterwards.
     */
    CompletableFuture<ExportInfo> info(String exportName) {
        return greet().thenCompose(v -> {
            requireFixedNewstyle("NBD_OPT_INFO");
            return replyChunks();
        }).thenCompose(v -> structured
                ? metaContexts(Nbd.NBD_OPT_LIST_META_CONTEXT, exportName, List.of())
                : CompletableFuture.completedFuture(Map.<String, Integer>of()))
                .thenCompose(contexts -> handshake.option(Nbd.NBD_OPT_INFO,
                        new GoRequest(exportName, INFO_REQUESTS).encode(ByteBufAllocator.DEFAULT))
                        .thenApply(r -> {
                            if (!r.acked()) {
                                throw r.refusal();
                            }
                            return exportInfo(exportName, r.replies(), contexts);
                        }))
                .thenCompose(info -> abort().thenApply(x -> info));
    }

    /** The greeting and the client flags, then NBD_OPT_STARTTLS first of all when TLS is wanted. */
    private CompletableFuture<Void> greet() {
        CompletableFuture<Void> greeted = handshake.greeting().thenAccept(g -> {
            fixedNewstyle = (g.handshakeFlags() & Nbd.NBD_FLAG_FIXED_NEWSTYLE) != 0;
            noZeroes = (g.handshakeFlags() & Nbd.NBD_FLAG_NO_ZEROES) != 0;
            handshake.sendClientFlags((fixedNewstyle ? Nbd.NBD_FLAG_C_FIXED_NEWSTYLE : 0)
                    | (noZeroes ? Nbd.NBD_FLAG_C_NO_ZEROES : 0));
        });
        return tls.isEmpty() ? greeted : greeted.thenCompose(v -> startTls(tls.get()));
    }

    /**
     * As libnbd with TLS required: STARTTLS before any other option, so that
     * nothing is negotiated in the clear; a refusal ends the connection, since a
     * client that wants TLS must not carry on without it.
     */
    private CompletableFuture<Void> startTls(ClientTls tls) {
        requireFixedNewstyle("TLS");
        return handshake.option(Nbd.NBD_OPT_STARTTLS, Unpooled.EMPTY_BUFFER).thenCompose(r -> {
            if (!r.acked()) {
                throw new CompletionException(new NbdException("the server refused TLS: "
                        + Errors.message(r.refusal())));
            }
            return handshake.startTls(tls.newHandler(handshake.channel()));
        });
    }

    private void requireFixedNewstyle(String what) {
        if (!fixedNewstyle) {
            throw new CompletionException(
                    new NbdException("server does not speak fixed newstyle, so " + what + " is not available"));
        }
    }

    /**
     * As libnbd: NBD_OPT_EXTENDED_HEADERS first, and NBD_OPT_STRUCTURED_REPLY only if
     * that was refused (after an acknowledgement it would be refused with
     * NBD_REP_ERR_EXT_HEADER_REQD). Either refusal just leaves the simpler headers.
     */
    private CompletableFuture<Void> replyChunks() {
        if (!fixedNewstyle || !options.structuredReplies()) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> extendedHeaders = !options.extendedHeaders() ? CompletableFuture.completedFuture(null)
                : handshake.option(Nbd.NBD_OPT_EXTENDED_HEADERS, Unpooled.EMPTY_BUFFER).thenAccept(r -> {
                    extended = r.acked();
                    structured = extended;
                });
        return extendedHeaders.thenCompose(v -> extended ? CompletableFuture.completedFuture(null)
                : handshake.option(Nbd.NBD_OPT_STRUCTURED_REPLY, Unpooled.EMPTY_BUFFER)
                        .thenAccept(r -> structured = r.acked()));
    }

    private CompletableFuture<Map<String, Integer>> setMetaContexts(String exportName) {
        if (!structured || options.metaContexts().isEmpty()) {
            return CompletableFuture.completedFuture(Map.of());
        }
        return metaContexts(Nbd.NBD_OPT_SET_META_CONTEXT, exportName, options.metaContexts());
    }

    /** SET or LIST_META_CONTEXT; a refusal means no contexts, not a failed connection. */
    private CompletableFuture<Map<String, Integer>> metaContexts(int option, String exportName, List<String> queries) {
        return handshake.option(option, new MetaContextRequest(exportName, queries).encode(ByteBufAllocator.DEFAULT))
                .thenApply(r -> {
                    Map<String, Integer> contexts = new LinkedHashMap<>();
                    if (r.acked()) {
                        for (OptionReply reply : r.replies()) {
                            if (reply.type() == Nbd.NBD_REP_META_CONTEXT) {
                                OptionReplies.MetaContext c = parse(() -> OptionReplies.parseMetaContext(reply.content()));
                                contexts.put(c.name(), c.id());
                            }
                        }
                    }
                    return contexts;
                });
    }

    private CompletableFuture<ExportInfo> goOrExportName(String exportName, Map<String, Integer> contexts) {
        if (!fixedNewstyle) {
            return exportName(exportName, contexts);
        }
        return handshake.option(Nbd.NBD_OPT_GO, new GoRequest(exportName, INFO_REQUESTS).encode(ByteBufAllocator.DEFAULT))
                .thenCompose(r -> {
                    if (r.acked()) {
                        return CompletableFuture.completedFuture(exportInfo(exportName, r.replies(), contexts));
                    }
                    if (r.last().type() == Nbd.NBD_REP_ERR_UNSUP) {
                        if (extended) {
                            throw new NbdProtocolException("the server acknowledged NBD_OPT_EXTENDED_HEADERS but does"
                                    + " not support NBD_OPT_GO (the spec forbids both that and NBD_OPT_EXPORT_NAME)");
                        }
                        return exportName(exportName, contexts);
                    }
                    throw r.refusal();
                });
    }

    private CompletableFuture<ExportInfo> exportName(String exportName, Map<String, Integer> contexts) {
        return handshake.exportName(exportName, !noZeroes).thenApply((ExportNameReply r) ->
                new ExportInfo(exportName, r.size(), r.transmissionFlags(), null, null, structured, false, contexts));
    }

    private CompletableFuture<Void> abort() {
        // The server acknowledges NBD_OPT_ABORT or just hangs up; both end the session.
        return handshake.option(Nbd.NBD_OPT_ABORT, Unpooled.EMPTY_BUFFER)
                .handle((r, t) -> null);
    }

    private ExportInfo exportInfo(String requestedName, List<OptionReply> replies, Map<String, Integer> contexts) {
        long size = -1;
        int flags = 0;
        String name = requestedName;
        String description = null;
        OptionReplies.BlockSize blockSize = null;
        for (OptionReply reply : replies) {
            if (reply.type() != Nbd.NBD_REP_INFO) {
                continue;
            }
            int type = parse(() -> OptionReplies.infoType(reply.content()));
            switch (type) {
                case Nbd.NBD_INFO_EXPORT:
                    long[] sf = parse(() -> OptionReplies.parseInfoExport(reply.content()));
                    size = sf[0];
                    flags = (int) sf[1];
                    break;
                case Nbd.NBD_INFO_NAME:
                    name = parse(() -> OptionReplies.parseInfoString(reply.content()));
                    break;
                case Nbd.NBD_INFO_DESCRIPTION:
                    description = parse(() -> OptionReplies.parseInfoString(reply.content()));
                    break;
                case Nbd.NBD_INFO_BLOCK_SIZE:
                    blockSize = parse(() -> OptionReplies.parseInfoBlockSize(reply.content()));
                    break;
                default:
                    // The spec lets servers send information the client did not ask for; ignore it.
            }
        }
        if (size < 0) {
            throw new NbdProtocolException("NBD_REP_ACK without NBD_INFO_EXPORT");
        }
        return new ExportInfo(name, size, flags, blockSize, description, structured, extended, contexts);
    }

    private interface Parser<T> {
        T parse() throws InvalidOptionException;
    }

    private static <T> T parse(Parser<T> p) {
        try {
            return p.parse();
        } catch (InvalidOptionException e) {
            throw new NbdProtocolException("malformed option reply: " + e.getMessage());
        }
    }
}
