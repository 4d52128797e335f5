package io.pgsentinel.shared.client;

import io.pgsentinel.shared.zk.Names;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;

/**
 * A {@code jdbc:pgsentinel:} URL, parsed and checked:
 * <pre>
 * jdbc:pgsentinel://zk1:2181,zk2:2181,zk3:2181/CLUSTER/DATABASE?role=primary&amp;user=app
 * jdbc:pgsentinel:http://s1:8008,s2:8008/CLUSTER/DATABASE?role=replica&amp;maxLagBytes=16777216
 * </pre>
 * Its own parameters: {@code role} ({@code primary}, {@code replica} or {@code any}; default
 * primary), {@code maxLagBytes} (a replica further behind is not chosen; default 16 MiB),
 * {@code zkRoot} (default {@code /pg-sentinel}), {@code topologyTimeout} (seconds to wait for a
 * first topology; default 10), {@code zkUser} and {@code zkPassword} (the read-only ZooKeeper
 * identity, when the sentinels restrict reading the topology), {@code pollInterval} (HTTP form,
 * milliseconds; default 1000), {@code primaryWait} (seconds a role=primary connect whose published
 * primary does not answer waits for a newer topology, to connect to the new primary the moment it
 * is published; default 5, 0 to fail at once). Every other parameter, and the driver's {@code info} properties,
 * go to PgJDBC as they are ({@code user}, {@code password}, {@code sslmode}, ...). An error names
 * what is wrong and never repeats the URL (it may hold a password).
 */
public record DriverUrl(boolean overHttp, List<String> hosts, String cluster, String database, Role role,
                        long maxLagBytes, String zkRoot, Duration topologyTimeout, String zkUser, String zkPassword,
                        Duration pollInterval, Duration primaryWait, Properties pgProperties) {
    public static final String PREFIX = "jdbc:pgsentinel:";
    static final Set<String> OWN = Set.of("role", "maxLagBytes", "zkRoot", "topologyTimeout", "zkUser", "zkPassword",
            "pollInterval", "primaryWait");

    /** Which server a connection goes to. */
    public enum Role {
        /** The published primary; revoked if another node becomes the primary. */
        PRIMARY,
        /** A streaming replica within maxLagBytes, not tagged noloadbalance, round-robin. */
        REPLICA,
        /** Any of them: the primary or an eligible replica, round-robin. */
        ANY
    }

    public static boolean accepts(String url) {
        return url != null && url.startsWith(PREFIX);
    }

    /** Parses {@code url}; {@code info} (may be null) gives properties the URL's parameters override. */
    public static DriverUrl parse(String url, Properties info) throws SQLException {
        if (!accepts(url)) {
            throw bad("it must start with " + PREFIX);
        }
        String rest = url.substring(PREFIX.length());
        boolean http;
        String scheme = "";
        if (rest.startsWith("//")) {
            http = false;
            rest = rest.substring(2);
        } else if (rest.startsWith("http://") || rest.startsWith("https://")) {
            http = true;
            scheme = rest.substring(0, rest.indexOf("://") + 3);
            rest = rest.substring(scheme.length());
        } else {
            throw bad("after " + PREFIX + " comes //zk1:2181,... (ZooKeeper) or http://sentinel:8008,... (HTTP)");
        }
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String[] parts = rest.split("/", -1);
        if (parts.length != 3 || parts[0].isEmpty()) {
            throw bad("the form is " + PREFIX + (http ? "http://host:port,.../" : "//zk1:2181,.../") + "CLUSTER/DATABASE");
        }
        List<String> hosts = new ArrayList<>();
        for (String h : parts[0].split(",")) {
            String host = h.strip();
            if (host.isEmpty() || host.chars().anyMatch(Character::isWhitespace)) {
                throw bad("an empty or malformed host in the host list");
            }
            hosts.add(http ? scheme + host : host);
        }
        String cluster = decode(parts[1]);
        String problem = Names.problem(cluster);
        if (problem != null) {
            throw bad("the cluster name " + problem);
        }
        String database = decode(parts[2]);
        if (database.isEmpty()) {
            throw bad("the database name is missing (.../CLUSTER/DATABASE)");
        }
        Properties props = new Properties();
        if (info != null) {
            info.forEach((k, v) -> props.put(String.valueOf(k), String.valueOf(v)));
        }
        for (String pair : query.isEmpty() ? new String[0] : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = decode(eq < 0 ? pair : pair.substring(0, eq));
            String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
            props.setProperty(key, value);
        }
        Role role = switch (props.getProperty("role", "primary").toLowerCase(Locale.ROOT)) {
            case "primary", "master", "read-write" -> Role.PRIMARY;
            case "replica", "secondary", "read-only" -> Role.REPLICA;
            case "any" -> Role.ANY;
            default -> throw bad("role must be primary, replica or any, got '" + shorten(props.getProperty("role")) + "'");
        };
        long maxLag = number(props, "maxLagBytes", 16L << 20, 0, Long.MAX_VALUE);
        String zkRoot = props.getProperty("zkRoot", "/pg-sentinel");
        if (!zkRoot.startsWith("/") || zkRoot.length() > 1 && zkRoot.endsWith("/")) {
            throw bad("zkRoot must be an absolute ZooKeeper path like /pg-sentinel");
        }
        Duration timeout = Duration.ofSeconds(number(props, "topologyTimeout", 10, 1, 3600));
        Duration poll = Duration.ofMillis(number(props, "pollInterval", 1000, 50, 600_000));
        Duration primaryWait = Duration.ofSeconds(number(props, "primaryWait", 5, 0, 600));
        String zkUser = props.getProperty("zkUser");
        String zkPassword = props.getProperty("zkPassword");
        if ((zkUser == null) != (zkPassword == null)) {
            throw bad("zkUser and zkPassword go together");
        }
        Properties pg = new Properties();
        props.forEach((k, v) -> {
            if (!OWN.contains((String) k)) {
                pg.put(k, v);
            }
        });
        if (http) {
            for (String h : hosts) {
                try {
                    URI uri = URI.create(h);
                    if (uri.getUserInfo() != null) {
                        throw bad("no credentials in a sentinel address (they would show in logs): give the API token "
                                + "otherwise");
                    }
                    if (uri.getHost() == null) {
                        throw bad("a sentinel address must be host:port");
                    }
                } catch (IllegalArgumentException e) {
                    throw bad("a sentinel address is not a valid URL authority");
                }
            }
        }
        return new DriverUrl(http, List.copyOf(hosts), cluster, database, role, maxLag, zkRoot, timeout, zkUser,
                zkPassword, poll, primaryWait, pg);
    }

    /** What identifies the topology source: shared by every connection of the JVM with the same key (no secrets). */
    String sourceKey() {
        // the ZooKeeper password counts (a source opened with a wrong one must not serve the right
        // one), as a digest: the key is no place for a secret
        String identity = zkUser == null ? "" : zkUser + ":" + digest(zkPassword);
        return (overHttp ? "http|" : "zk|" + zkRoot + "|" + identity + "|") + String.join(",", hosts) + "|" + cluster;
    }

    private static String digest(String secret) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(d, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Without its secrets (the ZooKeeper password, PgJDBC's properties). */
    @Override
    public String toString() {
        return "DriverUrl[" + sourceDescription() + ", database " + database + ", role " + role + "]";
    }

    /** For messages: where the topology comes from, without credentials. */
    String sourceDescription() {
        return (overHttp ? "sentinels " : "ZooKeeper ") + String.join(",", hosts) + (overHttp ? "" : zkRoot)
                + " (cluster " + cluster + ")";
    }

    private static long number(Properties p, String key, long dflt, long min, long max) throws SQLException {
        String v = p.getProperty(key);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n < min || n > max) {
                throw bad(key + " must be between " + min + " and " + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw bad(key + " must be a whole number, got '" + shorten(v) + "'");
        }
    }

    private static String decode(String s) throws SQLException {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw bad("a malformed %-escape");
        }
    }

    private static String shorten(String s) {
        return s == null ? "" : s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    private static SQLException bad(String why) {
        // 08001: the client cannot establish the connection; the URL itself is never repeated
        return new SQLException("invalid jdbc:pgsentinel URL: " + why, "08001");
    }
}
