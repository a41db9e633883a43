package org.bufcached.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.regex.Pattern;

/**
 * An address block such as {@code 10.0.0.0/8} or {@code fd00::/8}, used in an
 * export's {@code allow} list to decide which TCP clients may connect.
 *
 * <p>Parsing accepts address literals only, so a configuration never triggers a
 * DNS lookup. Host bits below the prefix must be zero: {@code 10.1.2.3/8}
 * almost always means the author mistyped either the address or the prefix.
 * An address without a prefix is a single host.
 */
public record Cidr(InetAddress network, int prefixLength) {
    private static final Pattern IPV4 = Pattern.compile("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");
    private static final byte[] IPV4_MAPPED_PREFIX = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff};

    public Cidr {
        int bits = network.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length must be between 0 and " + bits + ", got " + prefixLength);
        }
    }

    /**
     * Parses {@code address[/prefix]}.
     *
     * @throws IllegalArgumentException with a message fit for an operator
     */
    public static Cidr parse(String text) {
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String address = slash < 0 ? trimmed : trimmed.substring(0, slash);
        InetAddress network = parseLiteral(address, text);
        int bits = network.getAddress().length * 8;
        int prefix = slash < 0 ? bits : parsePrefix(trimmed.substring(slash + 1), bits, text);
        Cidr cidr = new Cidr(network, prefix);
        if (!Arrays.equals(cidr.mask(network.getAddress()), network.getAddress())) {
            throw new IllegalArgumentException("\"" + text + "\" has host bits set below the /" + prefix + " prefix");
        }
        return cidr;
    }

    /**
     * Whether {@code address} lies in this block. An IPv4-mapped IPv6 address
     * ({@code ::ffff:10.0.0.1}, as a dual-stack socket may report a client) is
     * treated as the IPv4 address it carries; otherwise families never match.
     */
    public boolean matches(InetAddress address) {
        byte[] candidate = unmapIpv4(address.getAddress());
        byte[] own = network.getAddress();
        return candidate.length == own.length && Arrays.equals(mask(candidate), mask(own));
    }

    /** {@code 10.0.0.0/8} form, which {@link #parse} accepts back. */
    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefixLength;
    }

    private byte[] mask(byte[] address) {
        byte[] masked = address.clone();
        for (int i = 0; i < masked.length; i++) {
            int keep = Math.max(0, Math.min(8, prefixLength - 8 * i));
            masked[i] &= (byte) (0xff << (8 - keep));
        }
        return masked;
    }

    private static byte[] unmapIpv4(byte[] address) {
        if (address.length == 16
                && Arrays.equals(address, 0, IPV4_MAPPED_PREFIX.length, IPV4_MAPPED_PREFIX, 0, IPV4_MAPPED_PREFIX.length)) {
            return Arrays.copyOfRange(address, IPV4_MAPPED_PREFIX.length, 16);
        }
        return address;
    }

    private static InetAddress parseLiteral(String address, String text) {
        try {
            if (IPV4.matcher(address).matches()) {
                byte[] bytes = new byte[4];
                String[] octets = address.split("\\.");
                for (int i = 0; i < 4; i++) {
                    int octet = Integer.parseInt(octets[i]);
                    if (octet > 255) {
                        throw new UnknownHostException(address);
                    }
                    bytes[i] = (byte) octet;
                }
                return InetAddress.getByAddress(bytes);
            }
            if (IPV6.matcher(address).matches()) {
                // Brackets make the JDK insist on an IPv6 literal instead of falling back to DNS.
                return InetAddress.getByName("[" + address + "]");
            }
        } catch (UnknownHostException e) {
            // Reported below with the operator's text.
        }
        throw new IllegalArgumentException("expected an IPv4 or IPv6 network such as 10.0.0.0/8 or fd00::/8, got \""
                + text + "\"");
    }

    private static int parsePrefix(String prefix, int bits, String text) {
        if (!prefix.matches("[0-9]{1,3}") || Integer.parseInt(prefix) > bits) {
            throw new IllegalArgumentException("prefix length in \"" + text + "\" must be between 0 and " + bits);
        }
        return Integer.parseInt(prefix);
    }
}
