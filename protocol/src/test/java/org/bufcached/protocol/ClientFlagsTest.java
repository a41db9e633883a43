package org.bufcached.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ClientFlagsTest {
    private static final int FIXED_ONLY = Nbd.NBD_FLAG_FIXED_NEWSTYLE;
    private static final int FIXED_AND_NO_ZEROES = Nbd.NBD_FLAG_FIXED_NEWSTYLE | Nbd.NBD_FLAG_NO_ZEROES;

    @Test
    void accessors() {
        assertThat(new ClientFlags(0).fixedNewstyle()).isFalse();
        assertThat(new ClientFlags(0).noZeroes()).isFalse();
        assertThat(new ClientFlags(1).fixedNewstyle()).isTrue();
        assertThat(new ClientFlags(1).noZeroes()).isFalse();
        assertThat(new ClientFlags(2).noZeroes()).isTrue();
        assertThat(new ClientFlags(2).fixedNewstyle()).isFalse();
    }

    @Test
    void knownFlagsAdvertisedByTheServerAreExpected() {
        assertThat(new ClientFlags(0).unexpected(FIXED_AND_NO_ZEROES)).isZero();
        assertThat(new ClientFlags(1).unexpected(FIXED_AND_NO_ZEROES)).isZero();
        assertThat(new ClientFlags(3).unexpected(FIXED_AND_NO_ZEROES)).isZero();
        assertThat(new ClientFlags(1).unexpected(FIXED_ONLY)).isZero();
    }

    /** "NBD_FLAG_C_NO_ZEROES MUST NOT be set if the server did not set NBD_FLAG_NO_ZEROES". */
    @Test
    void noZeroesIsUnexpectedWhenNotAdvertised() {
        assertThat(new ClientFlags(3).unexpected(FIXED_ONLY)).isEqualTo(Nbd.NBD_FLAG_C_NO_ZEROES);
        assertThat(new ClientFlags(2).unexpected(0)).isEqualTo(Nbd.NBD_FLAG_C_NO_ZEROES);
    }

    /** "Clients MUST NOT set any other flags". */
    @Test
    void unknownFlagsAreUnexpected() {
        assertThat(new ClientFlags(1 | 4).unexpected(FIXED_AND_NO_ZEROES)).isEqualTo(4);
        assertThat(new ClientFlags(0x80000001).unexpected(FIXED_AND_NO_ZEROES)).isEqualTo(0x80000000);
        assertThat(new ClientFlags(0xffffffff).unexpected(FIXED_ONLY)).isEqualTo(0xfffffffe);
    }
}
