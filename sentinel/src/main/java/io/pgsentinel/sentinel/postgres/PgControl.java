package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.localcluster.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Controls the local PostgreSQL server: start (always with {@code -p port}: pg_basebackup and
 * pg_rewind copy configuration files between nodes), stop with escalation until certain,
 * promote, re-point, rewind and clone. External programs run as the data
 * directory's owner when the sentinel runs as root, and every one has a timeout.
 */
public final class PgControl {
    private static final Logger LOG = LoggerFactory.getLogger(PgControl.class);
    private static final Pattern REPLICATION_SETTING = Pattern.compile("^\\s*(primary_conninfo|primary_slot_name)\\s*=.*$");

    /** Where to reach another server, for replication and copies. */
    public record Upstream(String host, int port) {
    }

    private final Path binDirectory;
    private final Path dataDirectory;
    private final int port;
    private final String host;
    private final String startCommand;
    private final Path logFile;
    private final Jdbc jdbc;
    private final Replication replication;
    private final ServerProcess server;

    public PgControl(Path binDirectory, Path dataDirectory, String host, int port, String startCommand,
                     String stopCommand, Jdbc jdbc, Replication replication) {
        this.binDirectory = binDirectory;
        this.dataDirectory = dataDirectory;
        this.host = host;
        this.port = port;
        this.startCommand = startCommand == null ? "" : startCommand;
        this.logFile = Path.of(dataDirectory + ".log");
        this.server = new ServerProcess(binDirectory, dataDirectory, stopCommand);
        this.jdbc = jdbc;
        this.replication = replication;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    private List<String> asOwner(List<String> command) {
        return server.asOwner(command);
    }

    private Command.Result run(List<String> command, Duration timeout) {
        return Command.run(asOwner(command), timeout, dataDirectory.getParent());
    }

    private volatile String cloneCommand = "";

    /** replication.cloneCommand: how a clone is made before pg_basebackup (empty: pg_basebackup only). */
    public void cloneCommand(String command) {
        this.cloneCommand = command == null ? "" : command;
    }

    /** The address the server listens on, as the sentinel reaches it (node.host). */
    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    /** The running postmaster's pid, or empty (also for a stale postmaster.pid). */
    public OptionalLong postmasterPid() {
        return server.postmasterPid();
    }

    public boolean isRunning() {
        return server.isRunning();
    }

    /** The server's processes: running or not, stopped until certain. */
    public ServerProcess server() {
        return server;
    }

    /** What {@code bootstrap.method: initdb} creates: the superuser, initdb's options, settings and pg_hba lines. */
    public record InitdbSpec(String superuser, Optional<Path> passwordFile, List<String> options,
                             Map<String, String> parameters, List<String> pgHba) {
    }

    /**
     * Creates a new cluster in the (certainly empty or absent) data directory, as its owner:
     * initdb with the spec's options, then the sentinel's settings (listen on every address, this port,
     * wal_log_hints for pg_rewind) and the operator's, and pg_hba lines for the other hosts. A
     * failed attempt leaves the directory renamed {@code <dataDirectory>.pg-sentinel-failed-initdb}
     * (replacing an older one), so that the next attempt starts from nothing again.
     */
    public void initdb(InitdbSpec spec, Duration timeout) {
        if (!dataDirectoryEmpty()) {
            throw new IllegalStateException("the data directory " + dataDirectory + " is not empty: no initdb over it");
        }
        boolean password = spec.passwordFile().isPresent();
        List<String> command = new ArrayList<>(List.of(bin("initdb"), "-D", dataDirectory.toString(), "-U",
                spec.superuser(), "--auth-local=" + (password ? "peer" : "trust"),
                "--auth-host=" + (password ? "scram-sha-256" : "trust")));
        spec.passwordFile().ifPresent(f -> command.add("--pwfile=" + f));
        command.addAll(spec.options());
        try {
            Command.Result r = run(command, timeout);
            if (r.exitCode() != 0) {
                throw new IllegalStateException("initdb failed (exit " + r.exitCode() + "): " + lastLines(r.output()));
            }
            StringBuilder conf = new StringBuilder("\n# written by pg-sentinel when it created this cluster "
                    + "(bootstrap.method: initdb)\n");
            // every address: the clones copy this file, and each node has its own (pg_hba.conf says who may connect)
            conf.append("listen_addresses = '*'\n");
            conf.append("port = ").append(port).append('\n');
            conf.append("wal_log_hints = on\n");
            spec.parameters().forEach((k, v) -> conf.append(k).append(" = ").append(v).append('\n'));
            Files.writeString(dataDirectory.resolve("postgresql.conf"), conf, java.nio.charset.StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
            List<String> hba = spec.pgHba().isEmpty() ? List.of(
                    "host replication all samenet " + (password ? "scram-sha-256" : "trust"),
                    "host all all samenet " + (password ? "scram-sha-256" : "trust")) : spec.pgHba();
            Files.writeString(dataDirectory.resolve("pg_hba.conf"), "\n# written by pg-sentinel (bootstrap.pgHba)\n"
                    + String.join("\n", hba) + "\n", java.nio.charset.StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException | RuntimeException e) {
            Path failed = Path.of(dataDirectory + ".pg-sentinel-failed-initdb");
            try {
                if (Files.exists(failed)) {
                    deleteTree(failed);
                }
                if (Files.exists(dataDirectory)) {
                    Files.move(dataDirectory, failed, StandardCopyOption.ATOMIC_MOVE);
                }
            } catch (IOException moveFailed) {
                LOG.warn("could not set aside the failed initdb's directory: {}", moveFailed.toString());
            }
            throw e instanceof RuntimeException re ? re : new UncheckedIOException((IOException) e);
        }
    }

    /**
     * Whether the data directory is certainly absent or an empty directory: a node yet to be
     * cloned. One that cannot be read, or holds anything, is not (never moved aside for a clone
     * on a guess).
     */
    public boolean dataDirectoryEmpty() {
        try {
            return Files.notExists(dataDirectory) || isEmptyDirectory(dataDirectory);
        } catch (IOException e) {
            return false;
        }
    }

    public boolean hasStandbySignal() {
        return Files.exists(dataDirectory.resolve("standby.signal"));
    }

    /** What pg_controldata says of a stopped server: its state and its last checkpoint. */
    public record ControlData(String state, long checkpointLsn, long timeline) {
        /** Shut down cleanly as a primary: its last checkpoint is the end of its WAL. */
        public boolean cleanlyShutDown() {
            return state.equals("shut down");
        }
    }

    /** Reads pg_controldata (a few milliseconds); empty when it cannot. */
    public java.util.Optional<ControlData> controlData() {
        Command.Result r = run(List.of(bin("pg_controldata"), "-D", dataDirectory.toString()), Duration.ofSeconds(10));
        if (r.exitCode() != 0) {
            return java.util.Optional.empty();
        }
        String state = "";
        long checkpoint = -1;
        long timeline = 0;
        for (String line : r.output().lines().toList()) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String key = line.substring(0, colon).strip();
            String value = line.substring(colon + 1).strip();
            try {
                switch (key) {
                    case "Database cluster state" -> state = value;
                    case "Latest checkpoint location" -> checkpoint = io.pgsentinel.sentinel.model.Lsn.parse(value);
                    case "Latest checkpoint's TimeLineID" -> timeline = Long.parseLong(value);
                    default -> { }
                }
            } catch (IllegalArgumentException e) {
                return java.util.Optional.empty();
            }
        }
        return java.util.Optional.of(new ControlData(state, checkpoint, timeline));
    }

    /**
     * Starts the server and waits until it accepts connections (or {@code timeout}). A standby's
     * segment files of a timeline that stop short of its switch point are set aside first
     * ({@link WalDirectory}): recovery could not get past them.
     */
    public void start(Duration timeout) {
        if (hasStandbySignal()) {
            try {
                List<String> setAside = WalDirectory.setAsideUnreachedSegments(dataDirectory);
                if (!setAside.isEmpty()) {
                    LOG.warn("WAL segment files of a timeline that stop before its switch point (a primary lost while "
                            + "this standby began streaming its timeline): renamed with {} so that recovery reads the "
                            + "parent timeline's: {}", WalDirectory.SET_ASIDE_SUFFIX, setAside);
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("could not check pg_wal for segment files that stop before their timeline's switch point: {}",
                        e.toString());
            }
        }
        Command.Result r;
        if (!startCommand.isEmpty()) {
            r = Command.run(List.of("sh", "-c", startCommand), timeout);
        } else {
            r = run(List.of(bin("pg_ctl"), "-D", dataDirectory.toString(), "-l", logFile.toString(), "-o", "-p " + port,
                    "-w", "-t", Long.toString(Math.max(1, timeout.toSeconds())), "start"), timeout.plusSeconds(5));
        }
        if (r.exitCode() != 0) {
            throw new IllegalStateException("starting PostgreSQL failed (exit " + r.exitCode() + "): " + lastLines(r.output()));
        }
    }

    /** Stops the server until certain: see {@link ServerProcess#stop}. */
    public String stop(Duration budget, boolean urgent) {
        return server.stop(budget, urgent);
    }

    /** {@code CHECKPOINT} on the local server. */
    public void checkpoint(Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT");
            }
            return null;
        });
    }

    /** Points the running replica at {@code upstream} without a restart (PostgreSQL 13+). */
    public void repoint(Upstream upstream, String applicationName, Duration timeout) throws SQLException {
        String conninfo = replication.conninfo(upstream, applicationName, dataDirectory);
        String slot = Replication.slotName(applicationName);
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET primary_conninfo = " + literal(conninfo));
                s.execute("ALTER SYSTEM SET primary_slot_name = " + literal(slot));
                s.execute("SELECT pg_reload_conf()");
            }
            return null;
        });
    }

    /** With the server stopped: follow {@code upstream} on next start (standby.signal, conninfo, slot). */
    public void configureStandby(Upstream upstream, String applicationName) {
        Path auto = dataDirectory.resolve("postgresql.auto.conf");
        try {
            List<String> lines = Files.exists(auto) ? Files.readAllLines(auto, StandardCharsets.UTF_8) : List.of();
            List<String> kept = new ArrayList<>();
            for (String line : lines) {
                if (!REPLICATION_SETTING.matcher(line).matches()) {
                    kept.add(line);
                }
            }
            kept.add("primary_conninfo = " + literal(replication.conninfo(upstream, applicationName, dataDirectory)));
            kept.add("primary_slot_name = " + literal(Replication.slotName(applicationName)));
            // rewritten in place: the file keeps its owner (the server's user)
            Files.writeString(auto, String.join("\n", kept) + "\n", StandardCharsets.UTF_8);
            Path signal = dataDirectory.resolve("standby.signal");
            if (!Files.exists(signal)) {
                Files.writeString(signal, "");
                Command.run(List.of("chown", server.owner() + ":", signal.toString()), Duration.ofSeconds(10));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot configure " + dataDirectory + " as a standby", e);
        }
    }

    /**
     * {@code pg_rewind} against {@code source} (whose CHECKPOINT the caller ran first: without it
     * pg_rewind may wrongly find that no rewind is required). Returns pg_rewind's output.
     */
    public String rewind(Upstream source, Duration timeout) {
        List<String> command = List.of(bin("pg_rewind"), "-D", dataDirectory.toString(),
                "--source-server=" + replication.sourceServer(source), "-R");
        Command.Result r = Command.run(asOwnerWithEnv(command), timeout, dataDirectory.getParent());
        if (r.exitCode() != 0) {
            throw new IllegalStateException("pg_rewind failed (exit " + r.exitCode() + "): " + lastLines(r.output()));
        }
        return lastLines(r.output());
    }

    /**
     * A fresh copy of {@code source} with pg_basebackup. The old data directory is kept once,
     * renamed with the suffix {@code .pg-sentinel-old} (its diverged WAL may matter to a DBA).
     */
    public void cloneFrom(Upstream source, String applicationName, Duration timeout) {
        Path old = Path.of(dataDirectory + ".pg-sentinel-old");
        try {
            if (Files.exists(old)) {
                deleteTree(old);
            }
            if (Files.exists(dataDirectory) && !isEmptyDirectory(dataDirectory)) {
                Files.move(dataDirectory, old, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move " + dataDirectory + " aside before cloning", e);
        }
        if (!cloneCommand.isBlank()) {
            String expanded = cloneCommand.replace("{dataDirectory}", dataDirectory.toString())
                    .replace("{host}", source.host()).replace("{port}", Integer.toString(source.port()))
                    .replace("{node}", applicationName);
            Command.Result r = Command.run(asOwnerWithEnv(List.of("sh", "-c", expanded)), timeout, dataDirectory.getParent());
            if (r.exitCode() == 0 && Files.exists(dataDirectory.resolve("PG_VERSION"))) {
                LOG.info("cloned by replication.cloneCommand");
                configureStandby(source, applicationName);
                return;
            }
            LOG.warn("replication.cloneCommand did not make a copy (exit {}: {}): cloning with pg_basebackup instead",
                    r.exitCode(), lastLines(r.output()));
            try {
                if (Files.isDirectory(dataDirectory)) {
                    // what the failed command left: this clone's own, never the old data (moved aside above);
                    // the directory itself stays (it may be a mount point)
                    try (Stream<Path> children = Files.list(dataDirectory)) {
                        for (Path child : children.toList()) {
                            deleteTree(child);
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot clear what the failed clone command left in " + dataDirectory, e);
            }
        }
        List<String> command = List.of(bin("pg_basebackup"), "-d", replication.sourceServer(source)
                        + " application_name=" + Replication.cloneApplicationName(applicationName),
                "-D", dataDirectory.toString(), "-X", "stream", "-c", "fast", "-R",
                "-S", Replication.slotName(applicationName));
        Command.Result r = Command.run(asOwnerWithEnv(command), timeout, dataDirectory.getParent());
        if (r.exitCode() != 0) {
            throw new IllegalStateException("pg_basebackup failed (exit " + r.exitCode() + "): " + lastLines(r.output()));
        }
        configureStandby(source, applicationName);
    }

    private List<String> asOwnerWithEnv(List<String> command) {
        List<String> full = new ArrayList<>();
        Map<String, String> env = replication.environment(dataDirectory);
        if (!env.isEmpty()) {
            full.add("env");
            env.forEach((k, v) -> full.add(k + "=" + v));
        }
        full.addAll(command);
        return asOwner(full);
    }

    private String bin(String program) {
        return server.bin(program);
    }

    /** A SQL string literal. */
    static String literal(String value) {
        return "'" + value.replace("'", "''") + "'";
    }

    private static String lastLines(String output) {
        List<String> lines = output.strip().lines().toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size()));
    }

    private static boolean isEmptyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path path) throws IOException {
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
