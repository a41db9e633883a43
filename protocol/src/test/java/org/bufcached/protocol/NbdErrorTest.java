package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class NbdErrorTest {

    @Test
    void codesAreTheSpecValues() {
        assertThat(NbdError.EPERM.code()).isEqualTo(1);
        assertThat(NbdError.EIO.code()).isEqualTo(5);
        assertThat(NbdError.ENOMEM.code()).isEqualTo(12);
        assertThat(NbdError.EINVAL.code()).isEqualTo(22);
        assertThat(NbdError.ENOSPC.code()).isEqualTo(28);
        assertThat(NbdError.EOVERFLOW.code()).isEqualTo(75);
        assertThat(NbdError.ENOTSUP.code()).isEqualTo(95);
        assertThat(NbdError.ESHUTDOWN.code()).isEqualTo(108);
        assertThat(NbdError.values()).hasSize(8);
    }

    @Test
    void wireName() {
        assertThat(NbdError.ESHUTDOWN.wireName()).isEqualTo("NBD_ESHUTDOWN");
        assertThat(NbdError.ENOSPC.description()).isEqualTo("No space left on device");
    }

    @Test
    void fromCodeRoundTripsEveryValue() {
        for (NbdError e : NbdError.values()) {
            assertThat(NbdError.fromCode(e.code())).isSameAs(e);
        }
    }

    /** "The client SHOULD treat an unexpected error value as if it had been NBD_EINVAL". */
    @ParameterizedTest
    @CsvSource({"0", "2", "13", "27", "122", "109", "-1", "2147483647"})
    void fromCodeMapsUnknownValuesToEinval(int code) {
        assertThat(NbdError.fromCode(code)).isSameAs(NbdError.EINVAL);
    }

    /** Linux errno values; EDQUOT and EFBIG map to NBD_ENOSPC as the spec asks. */
    @ParameterizedTest
    @CsvSource({
        "1, EPERM",     // EPERM
        "13, EPERM",    // EACCES
        "30, EPERM",    // EROFS
        "5, EIO",       // EIO
        "12, ENOMEM",   // ENOMEM
        "22, EINVAL",   // EINVAL
        "28, ENOSPC",   // ENOSPC
        "27, ENOSPC",   // EFBIG
        "122, ENOSPC",  // EDQUOT
        "75, EOVERFLOW",
        "95, ENOTSUP",  // EOPNOTSUPP
        "108, ESHUTDOWN",
        "2, EIO",       // ENOENT: anything else is an I/O error
        "0, EIO",
    })
    void fromErrno(int errno, NbdError expected) {
        assertThat(NbdError.fromErrno(errno)).isSameAs(expected);
    }
}
