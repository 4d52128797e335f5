package io.pgsentinel.localcluster;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * One PostgreSQL server of a {@link PgCluster}: its port, data directory and postmaster, and
 * the faults a test injects into it for real (kill -9, SIGSTOP, stop, start).
 *
 * <p>{@link #host()} and {@link #port()} are how the other processes of the test cluster reach
 * the server (a replica's {@code primary_conninfo}, a sentinel's configuration); {@link #jdbcUrl()}
 * and the query helpers are how the test JVM does, which differs when the server runs on a host
 * of {@link Hosts} (through a loopback forwarder and the observer).
 */
public final class PgNode {
    private static final Duration PG_CTL_TIMEOUT = Duration.ofSeconds(90);
    /** Default JDBC timeouts of the kit's own connections, in seconds (PgJDBC's unit). */
    private static final int DEFAULT_TIMEOUT_SECONDS = 10;

    private final PgInstall install;
    private final String name;
    private final Host runsOn;
    private final int port;
    private final Path dataDirectory;
    private final Path logFile;
    private final Path socketDirectory;

    PgNode(PgInstall install, String name, Host runsOn, int port, Path dataDirectory, Path logFile,
           Path socketDirectory) {
        this.install = install;
        this.name = name;
        this.runsOn = runsOn;
        this.port = port;
        this.dataDirectory = dataDirectory;
        this.logFile = logFile;
        this.socketDirectory = socketDirectory;
    }

    public String name() {
        return name;
    }

    /** The server's address as the other processes of the test cluster see it (127.0.0.1, or its host's). */
    public String host() {
        return runsOn.address();
    }

    /** Where the server runs: {@link Host#LOOPBACK} or a host of {@link Hosts}. */
    public Host runsOn() {
        return runsOn;
    }

    public int port() {
        return port;
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    public Path logFile() {
        return logFile;
    }

    /** A JDBC URL with connect, login and socket timeouts, so no call of the kit can hang. */
    public String jdbcUrl() {
        return jdbcUrl(Duration.ofSeconds(DEFAULT_TIMEOUT_SECONDS));
    }

    /** The test JVM's JDBC URL of this server (through the observer when it runs on a host). */
    public String jdbcUrl(Duration timeout) {
        long seconds = Math.max(1, timeout.toSeconds());
        return "jdbc:postgresql://" + runsOn.reach(port) + "/postgres?user=postgres"
                + "&connectTimeout=" + seconds + "&loginTimeout=" + seconds + "&socketTimeout=" + seconds
                + "&ApplicationName=pg-sentinel-kit";
    }

    /** A JDBC URL of this server through {@code endpoint} (a client host's gateway, say), with 1 s timeouts. */
    public String jdbcUrlFor(Endpoint endpoint) {
        return "jdbc:postgresql://" + endpoint + "/postgres?user=postgres&connectTimeout=1&loginTimeout=1"
                + "&socketTimeout=1&ApplicationName=pg-sentinel-kit";
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    public Connection connect(Duration timeout) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(timeout));
    }

    /** The first column of the first row of {@code sql}, or null. */
    public String query(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    /** Every row's first column of {@code sql}. */
    public List<String> queryColumn(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<String> values = new ArrayList<>();
            while (rs.next()) {
                values.add(rs.getString(1));
            }
            return values;
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    public void execute(String sql) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(name + ": " + sql + ": " + e.getMessage(), e);
        }
    }

    public boolean isInRecovery() {
        return "t".equals(query("SELECT pg_is_in_recovery()"));
    }

    /** The primary's flushed WAL position (see TESTING.md: compare flush positions). */
    public String currentFlushLsn() {
        return query("SELECT pg_current_wal_flush_lsn()");
    }

    /** Waits until this replica has replayed {@code lsn}. */
    public void awaitReplayed(String lsn, Duration timeout) {
        Await.until(name + " to replay " + lsn, timeout,
                () -> "t".equals(query("SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn")));
    }

    /** Waits until this replica's WAL receiver reports streaming. */
    public void awaitStreaming(Duration timeout) {
        Await.until(name + " to stream", timeout,
                () -> "streaming".equals(query("SELECT status FROM pg_stat_wal_receiver")));
    }

    /** The postmaster's PID from {@code postmaster.pid}, when that process is alive. */
    public OptionalLong postmasterPid() {
        Path pidFile = dataDirectory.resolve("postmaster.pid");
        try {
            if (!Files.exists(pidFile)) {
                return OptionalLong.empty();
            }
            String first = Files.readAllLines(pidFile, StandardCharsets.UTF_8).get(0).strip();
            long pid = Long.parseLong(first);
            // a stale file after kill -9 names a dead (or recycled) pid: check it is our postmaster
            if (Processes.isAlive(pid) && Processes.commandLine(pid).contains(dataDirectory.toString())) {
                return OptionalLong.of(pid);
            }
            return OptionalLong.empty();
        } catch (IOException | RuntimeException e) {
            // the file is rewritten while the server starts or stops
            return OptionalLong.empty();
        }
    }

    public long requirePostmasterPid() {
        return postmasterPid().orElseThrow(() -> new IllegalStateException(name + " is not running"));
    }

    public boolean isRunning() {
        return postmasterPid().isPresent();
    }

    /**
     * Starts the server, with its port on the command line (basebackup and rewind copy config
     * files); on a host it listens on every address of the host, as the configuration says.
     */
    public void start() {
        pgCtl("-l", logFile.toString(), "-o", "-p " + port, "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()), "start");
    }

    public void stop(StopMode mode) {
        pgCtl("-m", mode.pgCtlName(), "-w", "-t", Long.toString(PG_CTL_TIMEOUT.toSeconds()), "stop");
    }

    /** SIGKILL of the postmaster and its children, as a host loss does; waits until they are dead. */
    public void kill9() {
        OptionalLong pid = postmasterPid();
        if (pid.isPresent()) {
            Processes.killServer(pid.getAsLong(), dataDirectory, Duration.ofSeconds(30));
            // Until its parent reaps it, a dead postmaster still holds its pid and PostgreSQL's
            // start takes the zombie for a running server ("lock file postmaster.pid already
            // exists"), and the same of the socket's lock file; every process of the server is
            // dead, so both lock files are stale.
            try {
                Files.deleteIfExists(dataDirectory.resolve("postmaster.pid"));
                Files.deleteIfExists(socketDirectory.resolve(".s.PGSQL." + port + ".lock"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** SIGSTOP of the postmaster, then of its children: the server hangs, its sockets stay open. */
    public void freeze() {
        long pid = requirePostmasterPid();
        Processes.freeze(List.of(pid));
        Processes.freeze(Processes.descendants(pid));
    }

    /** SIGCONT of the postmaster and its children. */
    public void thaw() {
        long pid = requirePostmasterPid();
        List<Long> all = new ArrayList<>(Processes.descendants(pid));
        all.add(pid);
        Processes.signal("CONT", all);
    }

    public boolean isFrozen() {
        OptionalLong pid = postmasterPid();
        return pid.isPresent() && "T".equals(Processes.state(pid.getAsLong()));
    }

    /** Appends {@code line} to this node's postgresql.auto.conf (read at the next start or reload). */
    public void appendAutoConf(String line) {
        try {
            Files.writeString(dataDirectory.resolve("postgresql.auto.conf"), line + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void pgCtl(String... args) {
        List<String> command = new ArrayList<>(List.of(install.bin("pg_ctl").toString(), "-D", dataDirectory.toString()));
        command.addAll(List.of(args));
        Command.Result result = Command.run(runsOn.wrap(Command.as(OsUser.serverUser(), command)),
                PG_CTL_TIMEOUT.plusSeconds(10), dataDirectory.getParent());
        if (result.exitCode() != 0) {
            throw new IllegalStateException("pg_ctl " + String.join(" ", args) + " on " + name + " failed ("
                    + result.exitCode() + "): " + result.output().strip() + "\n" + tailOfLog());
        }
    }

    /** The last lines of the server log, for error messages. */
    public String tailOfLog() {
        try {
            List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name + "@" + host() + ":" + port;
    }
}
