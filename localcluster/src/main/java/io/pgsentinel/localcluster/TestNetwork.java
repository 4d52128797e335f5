package io.pgsentinel.localcluster;

import java.util.List;

/**
 * The addresses of a {@link Hosts} run: a /24 that the machine's routes do not cover (so no
 * address of the test can be mistaken for a real one), the observer at {@code .1} on the
 * bridge, host {@code i} (0-based) at {@code .(11 + i)}.
 */
record TestNetwork(String prefix) {
    /** The ranges tried in order: 10.231.0.0/24, then 10.232.0.0/24 ... 10.239.0.0/24. */
    static final List<String> CANDIDATES = List.of("10.231.0", "10.232.0", "10.233.0", "10.234.0", "10.235.0",
            "10.236.0", "10.237.0", "10.238.0", "10.239.0");
    static final int MAX_HOSTS = 254 - 11 + 1;

    String cidr() {
        return prefix + ".0/24";
    }

    String observer() {
        return prefix + ".1";
    }

    String host(int index) {
        if (index < 0 || index >= MAX_HOSTS) {
            throw new IllegalArgumentException("host index must be in 0.." + (MAX_HOSTS - 1) + ", got " + index);
        }
        return prefix + "." + (11 + index);
    }

    /** The first candidate range that no destination of {@code routes} (lines of {@code ip route}) overlaps. */
    static TestNetwork choose(List<String> routes) {
        for (String candidate : CANDIDATES) {
            String cidr = candidate + ".0/24";
            if (routes.stream().map(TestNetwork::destination).noneMatch(d -> d != null && overlaps(d, cidr))) {
                return new TestNetwork(candidate);
            }
        }
        throw new IllegalStateException("every test range 10.231-239.0.0/24 overlaps a route of this machine: " + routes);
    }

    /** The destination of a route line ("10.0.0.0/8 dev eth0 ...", "local 10.1.2.3 dev ..."), null for default. */
    static String destination(String routeLine) {
        for (String token : routeLine.strip().split("\\s+")) {
            if (token.matches("\\d+\\.\\d+\\.\\d+\\.\\d+(/\\d+)?")) {
                return token.contains("/") ? token : token + "/32";
            }
            if (token.equals("default") || token.equals("dev") || token.equals("via")) {
                return null;
            }
        }
        return null;
    }

    static boolean overlaps(String a, String b) {
        long[] ra = range(a);
        long[] rb = range(b);
        return ra[0] <= rb[1] && rb[0] <= ra[1];
    }

    /** First and last address of an IPv4 CIDR, as unsigned numbers. */
    private static long[] range(String cidr) {
        String[] parts = cidr.split("/");
        String[] octets = parts[0].split("\\.");
        long address = 0;
        for (String octet : octets) {
            address = (address << 8) | Integer.parseInt(octet);
        }
        int bits = parts.length > 1 ? Integer.parseInt(parts[1]) : 32;
        long size = 1L << (32 - bits);
        long first = address & ~(size - 1) & 0xFFFFFFFFL;
        return new long[] {first, first + size - 1};
    }
}
