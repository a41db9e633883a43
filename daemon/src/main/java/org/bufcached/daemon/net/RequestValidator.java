package org.bufcached.daemon.net;

import org.bufcached.daemon.export.Export;
import org.bufcached.protocol.Nbd;
import org.bufcached.protocol.NbdError;
import org.bufcached.protocol.NbdRequest;

/**
 * Checks a request against the protocol and the export before any I/O: known
 * command and flags, bounds, alignment, payload limits, read-only state. Each
 * rejection names the error the spec asks for; the connection stays usable.
 * With extended headers the effect length of TRIM, WRITE_ZEROES, CACHE and
 * BLOCK_STATUS may exceed 4 GiB (bounded by the export), while READ and WRITE
 * stay within the maximum payload.
 */
final class RequestValidator {
    /** A rejected request: the error to send and a message for the human at the client. */
    record Rejection(NbdError error, String message) {
    }

    static final Rejection UNKNOWN_COMMAND = new Rejection(NbdError.EINVAL, "unknown command");
    static final Rejection UNKNOWN_FLAG = new Rejection(NbdError.EINVAL, "command flag not valid for this command");
    static final Rejection READ_ONLY = new Rejection(NbdError.EPERM, "export is read-only");
    static final Rejection PAST_END = new Rejection(NbdError.EINVAL, "request extends past the end of the export");
    static final Rejection WRITE_PAST_END = new Rejection(NbdError.ENOSPC, "write extends past the end of the export");
    static final Rejection UNALIGNED = new Rejection(NbdError.EINVAL, "request not aligned to the minimum block size");
    static final Rejection READ_TOO_LARGE = new Rejection(NbdError.EINVAL, "read larger than the maximum payload");
    /** The spec keeps NBD_EOVERFLOW for a READ whose DF flag forbids splitting the reply. */
    static final Rejection UNFRAGMENTED_READ_TOO_LARGE = new Rejection(NbdError.EOVERFLOW,
            "read with DF larger than the maximum payload");
    static final Rejection WRITE_TOO_LARGE = new Rejection(NbdError.EINVAL, "write payload larger than the maximum payload");
    /** Extended headers: "the flag MUST be set for NBD_CMD_WRITE". */
    static final Rejection WRITE_WITHOUT_PAYLOAD_LEN = new Rejection(NbdError.EINVAL,
            "write without NBD_CMD_FLAG_PAYLOAD_LEN (extended headers require it)");
    /** Extended headers: a payload on a command without a payload form, consumed and refused as the spec says. */
    static final Rejection UNEXPECTED_PAYLOAD = new Rejection(NbdError.EINVAL,
            "NBD_CMD_FLAG_PAYLOAD_LEN on a command that takes no payload");
    static final Rejection EMPTY_RANGE = new Rejection(NbdError.EINVAL, "zero-length range");
    static final Rejection FLUSH_NOT_ZERO = new Rejection(NbdError.EINVAL, "flush with nonzero offset or length");
    static final Rejection NO_CONTEXT = new Rejection(NbdError.EINVAL, "no metadata context was negotiated");
    static final Rejection SHUTDOWN = new Rejection(NbdError.ESHUTDOWN, "server is shutting down");
    static final Rejection EXPORT_REMOVED = new Rejection(NbdError.ESHUTDOWN, "export is being removed");

    private static final int FUA = Nbd.NBD_CMD_FLAG_FUA;

    private RequestValidator() {
    }

    /** Null when the request may go to the store. */
    static Rejection check(NbdRequest r, Session session) {
        Export export = session.export();
        int type = r.type();
        int allowed = allowedFlags(type, session);
        if (allowed < 0) {
            return UNKNOWN_COMMAND;
        }
        if (r.payloadDiscarded() && type != Nbd.NBD_CMD_WRITE) {
            return UNEXPECTED_PAYLOAD;
        }
        if ((r.flags() & ~allowed) != 0) {
            return UNKNOWN_FLAG;
        }
        if (type == Nbd.NBD_CMD_WRITE && session.extendedHeaders() && !r.hasFlag(Nbd.NBD_CMD_FLAG_PAYLOAD_LEN)) {
            return WRITE_WITHOUT_PAYLOAD_LEN;
        }
        boolean writes = type == Nbd.NBD_CMD_WRITE || type == Nbd.NBD_CMD_TRIM || type == Nbd.NBD_CMD_WRITE_ZEROES;
        if (writes && export.readOnly()) {
            return READ_ONLY;
        }
        if (type == Nbd.NBD_CMD_FLUSH) {
            return r.offset() != 0 || r.length() != 0 ? FLUSH_NOT_ZERO : null;
        }
        if (type == Nbd.NBD_CMD_BLOCK_STATUS && !session.blockStatusAllowed()) {
            return NO_CONTEXT;
        }
        if (type == Nbd.NBD_CMD_WRITE && r.payloadDiscarded()) {
            return WRITE_TOO_LARGE;
        }
        // offset and length are unsigned: a negative long is beyond 2^63 and past any export. (Only an
        // extended header's 64-bit effect length can be.)
        long offset = r.offset();
        long length = r.length();
        if (offset < 0 || offset > export.size() || length < 0 || length > export.size() - offset) {
            return type == Nbd.NBD_CMD_WRITE || type == Nbd.NBD_CMD_WRITE_ZEROES ? WRITE_PAST_END : PAST_END;
        }
        // Only READ and WRITE move a payload; the other commands' lengths are an effect range,
        // which the spec lets exceed the maximum payload.
        if (type == Nbd.NBD_CMD_READ && length > export.blockSizes().maxPayload()) {
            return r.hasFlag(Nbd.NBD_CMD_FLAG_DF) ? UNFRAGMENTED_READ_TOO_LARGE : READ_TOO_LARGE;
        }
        // The spec leaves a zero length unspecified; an empty range has no hole to punch and no extent to report.
        if (length == 0 && (type == Nbd.NBD_CMD_TRIM || type == Nbd.NBD_CMD_WRITE_ZEROES
                || type == Nbd.NBD_CMD_BLOCK_STATUS)) {
            return EMPTY_RANGE;
        }
        long alignment = export.blockSizes().minimum() - 1L;
        if ((offset & alignment) != 0 || (length & alignment) != 0) {
            return UNALIGNED;
        }
        return null;
    }

    /** The command flags valid for a command, or -1 for an unknown command. */
    private static int allowedFlags(int type, Session session) {
        switch (type) {
            case Nbd.NBD_CMD_READ:
                return session.structuredReplies() ? FUA | Nbd.NBD_CMD_FLAG_DF : FUA;
            case Nbd.NBD_CMD_WRITE:
                return session.extendedHeaders() ? FUA | Nbd.NBD_CMD_FLAG_PAYLOAD_LEN : FUA;
            case Nbd.NBD_CMD_FLUSH:
            case Nbd.NBD_CMD_TRIM:
            case Nbd.NBD_CMD_CACHE:
                return FUA;
            case Nbd.NBD_CMD_WRITE_ZEROES:
                return FUA | Nbd.NBD_CMD_FLAG_NO_HOLE | Nbd.NBD_CMD_FLAG_FAST_ZERO;
            case Nbd.NBD_CMD_BLOCK_STATUS:
                return FUA | Nbd.NBD_CMD_FLAG_REQ_ONE;
            default:
                return -1;
        }
    }
}
