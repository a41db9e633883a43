package org.bufcached.protocol;

/** The error values allowed on the wire in the transmission phase. */
public enum NbdError {
    EPERM(1, "Operation not permitted"),
    EIO(5, "Input/output error"),
    ENOMEM(12, "Cannot allocate memory"),
    EINVAL(22, "Invalid argument"),
    ENOSPC(28, "No space left on device"),
    EOVERFLOW(75, "Value too large"),
    ENOTSUP(95, "Operation not supported"),
    ESHUTDOWN(108, "Server is in the process of being shut down");

    private static final NbdError[] VALUES = values();

    private final int code;
    private final String description;

    NbdError(int code, String description) {
        this.code = code;
        this.description = description;
    }

    /** The value sent in the error field. */
    public int code() {
        return code;
    }

    public String description() {
        return description;
    }

    /** The wire name, e.g. {@code NBD_EINVAL}. */
    public String wireName() {
        return "NBD_" + name();
    }

    /**
     * Maps a received error value back; the spec says an unexpected value is to be
     * treated as {@link #EINVAL}.
     */
    public static NbdError fromCode(int code) {
        for (NbdError e : VALUES) {
            if (e.code == code) {
                return e;
            }
        }
        return EINVAL;
    }

    /** Maps a host errno from a failed system call onto the error to send. */
    public static NbdError fromErrno(int errno) {
        switch (errno) {
            case 1:   // EPERM
            case 13:  // EACCES
            case 30:  // EROFS
                return EPERM;
            case 12:  // ENOMEM
                return ENOMEM;
            case 22:  // EINVAL
                return EINVAL;
            case 27:  // EFBIG
            case 28:  // ENOSPC
            case 122: // EDQUOT
                return ENOSPC;
            case 75:  // EOVERFLOW
                return EOVERFLOW;
            case 95:  // EOPNOTSUPP
                return ENOTSUP;
            case 108: // ESHUTDOWN
                return ESHUTDOWN;
            default:
                return EIO;
        }
    }
}
