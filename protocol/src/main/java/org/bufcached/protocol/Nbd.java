package org.bufcached.protocol;

/**
 * Constants of the NBD protocol, named exactly as in the specification
 * (doc/proto.md of NetworkBlockDevice/nbd) so that the code can be read beside it.
 */
public final class Nbd {
    private Nbd() {
    }

    // Magic numbers.
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long NBD_REP_MAGIC = 0x3e889045565a9L;
    public static final int NBD_REQUEST_MAGIC = 0x25609513;
    public static final int NBD_SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int NBD_STRUCTURED_REPLY_MAGIC = 0x668e33ef;
    public static final int NBD_EXTENDED_REQUEST_MAGIC = 0x21e41c71;
    public static final int NBD_EXTENDED_REPLY_MAGIC = 0x6e8a278c;

    // Handshake flags (16 bits, server).
    public static final int NBD_FLAG_FIXED_NEWSTYLE = 1 << 0;
    public static final int NBD_FLAG_NO_ZEROES = 1 << 1;

    // Client flags (32 bits).
    public static final int NBD_FLAG_C_FIXED_NEWSTYLE = 1 << 0;
    public static final int NBD_FLAG_C_NO_ZEROES = 1 << 1;

    // Transmission flags (16 bits).
    public static final int NBD_FLAG_HAS_FLAGS = 1 << 0;
    public static final int NBD_FLAG_READ_ONLY = 1 << 1;
    public static final int NBD_FLAG_SEND_FLUSH = 1 << 2;
    public static final int NBD_FLAG_SEND_FUA = 1 << 3;
    public static final int NBD_FLAG_ROTATIONAL = 1 << 4;
    public static final int NBD_FLAG_SEND_TRIM = 1 << 5;
    public static final int NBD_FLAG_SEND_WRITE_ZEROES = 1 << 6;
    public static final int NBD_FLAG_SEND_DF = 1 << 7;
    public static final int NBD_FLAG_CAN_MULTI_CONN = 1 << 8;
    public static final int NBD_FLAG_SEND_RESIZE = 1 << 9;
    public static final int NBD_FLAG_SEND_CACHE = 1 << 10;
    public static final int NBD_FLAG_SEND_FAST_ZERO = 1 << 11;
    /** Only with extended headers; this server does not offer it (no BLOCK_STATUS payload form). */
    public static final int NBD_FLAG_BLOCK_STATUS_PAYLOAD = 1 << 12;

    // Option types.
    public static final int NBD_OPT_EXPORT_NAME = 1;
    public static final int NBD_OPT_ABORT = 2;
    public static final int NBD_OPT_LIST = 3;
    public static final int NBD_OPT_PEEK_EXPORT = 4;
    public static final int NBD_OPT_STARTTLS = 5;
    public static final int NBD_OPT_INFO = 6;
    public static final int NBD_OPT_GO = 7;
    public static final int NBD_OPT_STRUCTURED_REPLY = 8;
    public static final int NBD_OPT_LIST_META_CONTEXT = 9;
    public static final int NBD_OPT_SET_META_CONTEXT = 10;
    public static final int NBD_OPT_EXTENDED_HEADERS = 11;

    // Option reply types.
    public static final int NBD_REP_ACK = 1;
    public static final int NBD_REP_SERVER = 2;
    public static final int NBD_REP_INFO = 3;
    public static final int NBD_REP_META_CONTEXT = 4;
    public static final int NBD_REP_FLAG_ERROR = 1 << 31;
    public static final int NBD_REP_ERR_UNSUP = NBD_REP_FLAG_ERROR | 1;
    public static final int NBD_REP_ERR_POLICY = NBD_REP_FLAG_ERROR | 2;
    public static final int NBD_REP_ERR_INVALID = NBD_REP_FLAG_ERROR | 3;
    public static final int NBD_REP_ERR_PLATFORM = NBD_REP_FLAG_ERROR | 4;
    public static final int NBD_REP_ERR_TLS_REQD = NBD_REP_FLAG_ERROR | 5;
    public static final int NBD_REP_ERR_UNKNOWN = NBD_REP_FLAG_ERROR | 6;
    public static final int NBD_REP_ERR_SHUTDOWN = NBD_REP_FLAG_ERROR | 7;
    public static final int NBD_REP_ERR_BLOCK_SIZE_REQD = NBD_REP_FLAG_ERROR | 8;
    public static final int NBD_REP_ERR_TOO_BIG = NBD_REP_FLAG_ERROR | 9;
    public static final int NBD_REP_ERR_EXT_HEADER_REQD = NBD_REP_FLAG_ERROR | 10;

    // Information types of NBD_REP_INFO.
    public static final int NBD_INFO_EXPORT = 0;
    public static final int NBD_INFO_NAME = 1;
    public static final int NBD_INFO_DESCRIPTION = 2;
    public static final int NBD_INFO_BLOCK_SIZE = 3;

    // Command types.
    public static final int NBD_CMD_READ = 0;
    public static final int NBD_CMD_WRITE = 1;
    public static final int NBD_CMD_DISC = 2;
    public static final int NBD_CMD_FLUSH = 3;
    public static final int NBD_CMD_TRIM = 4;
    public static final int NBD_CMD_CACHE = 5;
    public static final int NBD_CMD_WRITE_ZEROES = 6;
    public static final int NBD_CMD_BLOCK_STATUS = 7;

    // Command flags.
    public static final int NBD_CMD_FLAG_FUA = 1 << 0;
    public static final int NBD_CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int NBD_CMD_FLAG_DF = 1 << 2;
    public static final int NBD_CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int NBD_CMD_FLAG_FAST_ZERO = 1 << 4;
    /** Extended headers only: the length field is a payload length and that many bytes follow the header. */
    public static final int NBD_CMD_FLAG_PAYLOAD_LEN = 1 << 5;

    // Structured reply flags and types.
    public static final int NBD_REPLY_FLAG_DONE = 1 << 0;
    public static final int NBD_REPLY_TYPE_NONE = 0;
    public static final int NBD_REPLY_TYPE_OFFSET_DATA = 1;
    public static final int NBD_REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int NBD_REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int NBD_REPLY_TYPE_BLOCK_STATUS_EXT = 6;
    public static final int NBD_REPLY_TYPE_ERROR = (1 << 15) | 1;
    public static final int NBD_REPLY_TYPE_ERROR_OFFSET = (1 << 15) | 2;

    // base:allocation status flags.
    public static final int NBD_STATE_HOLE = 1 << 0;
    public static final int NBD_STATE_ZERO = 1 << 1;

    /** The one metadata context this server implements. */
    public static final String BASE_ALLOCATION = "base:allocation";

    // Sizes fixed by the wire format.
    public static final int REQUEST_HEADER_SIZE = 28;
    public static final int EXTENDED_REQUEST_HEADER_SIZE = 32;
    public static final int SIMPLE_REPLY_HEADER_SIZE = 16;
    public static final int STRUCTURED_REPLY_HEADER_SIZE = 20;
    public static final int EXTENDED_REPLY_HEADER_SIZE = 32;
    public static final int OPTION_HEADER_SIZE = 16;
    public static final int OPTION_REPLY_HEADER_SIZE = 20;
    public static final int EXPORT_NAME_REPLY_ZEROES = 124;
    /** The spec's limit on strings (names, descriptions, messages). */
    public static final int MAX_STRING_LENGTH = 4096;

    /** Spec name of an option, for logs and errors. */
    public static String optionName(int option) {
        switch (option) {
            case NBD_OPT_EXPORT_NAME: return "NBD_OPT_EXPORT_NAME";
            case NBD_OPT_ABORT: return "NBD_OPT_ABORT";
            case NBD_OPT_LIST: return "NBD_OPT_LIST";
            case NBD_OPT_PEEK_EXPORT: return "NBD_OPT_PEEK_EXPORT";
            case NBD_OPT_STARTTLS: return "NBD_OPT_STARTTLS";
            case NBD_OPT_INFO: return "NBD_OPT_INFO";
            case NBD_OPT_GO: return "NBD_OPT_GO";
            case NBD_OPT_STRUCTURED_REPLY: return "NBD_OPT_STRUCTURED_REPLY";
            case NBD_OPT_LIST_META_CONTEXT: return "NBD_OPT_LIST_META_CONTEXT";
            case NBD_OPT_SET_META_CONTEXT: return "NBD_OPT_SET_META_CONTEXT";
            case NBD_OPT_EXTENDED_HEADERS: return "NBD_OPT_EXTENDED_HEADERS";
            default: return "option " + Integer.toUnsignedString(option);
        }
    }

    /** Spec name of a command, for logs, errors and metric tags. */
    public static String commandName(int type) {
        switch (type) {
            case NBD_CMD_READ: return "read";
            case NBD_CMD_WRITE: return "write";
            case NBD_CMD_DISC: return "disc";
            case NBD_CMD_FLUSH: return "flush";
            case NBD_CMD_TRIM: return "trim";
            case NBD_CMD_CACHE: return "cache";
            case NBD_CMD_WRITE_ZEROES: return "write_zeroes";
            case NBD_CMD_BLOCK_STATUS: return "block_status";
            default: return "unknown";
        }
    }

    /** Spec name of an option reply type. */
    public static String replyTypeName(int type) {
        switch (type) {
            case NBD_REP_ACK: return "NBD_REP_ACK";
            case NBD_REP_SERVER: return "NBD_REP_SERVER";
            case NBD_REP_INFO: return "NBD_REP_INFO";
            case NBD_REP_META_CONTEXT: return "NBD_REP_META_CONTEXT";
            case NBD_REP_ERR_UNSUP: return "NBD_REP_ERR_UNSUP";
            case NBD_REP_ERR_POLICY: return "NBD_REP_ERR_POLICY";
            case NBD_REP_ERR_INVALID: return "NBD_REP_ERR_INVALID";
            case NBD_REP_ERR_PLATFORM: return "NBD_REP_ERR_PLATFORM";
            case NBD_REP_ERR_TLS_REQD: return "NBD_REP_ERR_TLS_REQD";
            case NBD_REP_ERR_UNKNOWN: return "NBD_REP_ERR_UNKNOWN";
            case NBD_REP_ERR_SHUTDOWN: return "NBD_REP_ERR_SHUTDOWN";
            case NBD_REP_ERR_BLOCK_SIZE_REQD: return "NBD_REP_ERR_BLOCK_SIZE_REQD";
            case NBD_REP_ERR_TOO_BIG: return "NBD_REP_ERR_TOO_BIG";
            case NBD_REP_ERR_EXT_HEADER_REQD: return "NBD_REP_ERR_EXT_HEADER_REQD";
            default: return "reply type 0x" + Integer.toHexString(type);
        }
    }
}
