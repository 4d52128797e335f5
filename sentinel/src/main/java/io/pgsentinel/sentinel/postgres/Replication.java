package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.localcluster.Command;
import io.pgsentinel.localcluster.OsUser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * How replicas and copies connect to a primary: the replication user, SSL, and the password,
 * which never goes into primary_conninfo: when a password file is configured, it is written
 * (mode 0600, owned by the server's user) as a libpq passfile next to the data directory, and
 * primary_conninfo names that file.
 */
public final class Replication {
    private final String user;
    private final Optional<String> password;
    private final String sslMode;
    private final String sslRootCert;

    public Replication(String user, Optional<String> password, String sslMode, String sslRootCert) {
        this.user = user;
        this.password = password;
        this.sslMode = sslMode;
        this.sslRootCert = sslRootCert;
    }

    /** A replication slot name for a node id: lower case letters, digits and underscores. */
    public static String slotName(String nodeId) {
        return nodeId.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    }

    /** primary_conninfo for a replica named {@code applicationName} following {@code upstream}. */
    String conninfo(PgControl.Upstream upstream, String applicationName, Path dataDirectory) {
        StringBuilder s = new StringBuilder("host=").append(upstream.host()).append(" port=").append(upstream.port())
                .append(" user=").append(user).append(" application_name=").append(applicationName)
                .append(" sslmode=").append(sslMode);
        if (!sslRootCert.isEmpty()) {
            s.append(" sslrootcert=").append(sslRootCert);
        }
        passfile(dataDirectory).ifPresent(f -> s.append(" passfile=").append(f));
        return s.toString();
    }

    /** The source connection string of pg_rewind and pg_basebackup (the password comes from PGPASSFILE). */
    String sourceServer(PgControl.Upstream upstream) {
        return "host=" + upstream.host() + " port=" + upstream.port() + " user=" + user + " dbname=postgres sslmode="
                + sslMode + (sslRootCert.isEmpty() ? "" : " sslrootcert=" + sslRootCert);
    }

    /** The application name of a clone's connection, by which its progress is found on the source. */
    public static String cloneApplicationName(String nodeId) {
        return "pg-sentinel-clone-" + nodeId;
    }

    Map<String, String> environment(Path dataDirectory) {
        return passfile(dataDirectory).map(f -> Map.of("PGPASSFILE", f.toString())).orElse(Map.of());
    }

    private Optional<Path> passfile(Path dataDirectory) {
        if (password.isEmpty()) {
            return Optional.empty();
        }
        Path file = dataDirectory.resolveSibling(".pg-sentinel-replication.pgpass");
        try {
            String line = "*:*:*:" + escape(user) + ":" + escape(password.get()) + "\n";
            if (!Files.exists(file) || !Files.readString(file, StandardCharsets.UTF_8).equals(line)) {
                Files.writeString(file, line, StandardCharsets.UTF_8);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
                Path owner = Files.exists(dataDirectory) ? dataDirectory : dataDirectory.getParent();
                Command.run(List.of("chown", OsUser.ownerOf(owner) + ":", file.toString()), Duration.ofSeconds(10));
            }
            return Optional.of(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the replication passfile next to " + dataDirectory, e);
        }
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace(":", "\\:");
    }
}
