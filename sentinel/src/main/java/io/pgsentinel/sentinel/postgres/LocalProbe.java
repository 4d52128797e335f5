package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.sentinel.model.Lsn;
import io.pgsentinel.sentinel.model.MemberReport;
import io.pgsentinel.sentinel.model.Role;
import io.pgsentinel.sentinel.model.Standby;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Probes the local server: role, timeline, WAL positions, WAL receiver, replication connections. */
public final class LocalProbe {
    private static final String STATUS_SQL = """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn()::text END,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text END,
                   CASE WHEN pg_is_in_recovery() THEN NULL
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
                   (SELECT status FROM pg_stat_wal_receiver),
                   (SELECT received_tli FROM pg_stat_wal_receiver),
                   (SELECT sender_host FROM pg_stat_wal_receiver),
                   (SELECT sender_port FROM pg_stat_wal_receiver),
                   (SELECT timeline_id FROM pg_control_checkpoint()),
                   current_setting('primary_conninfo'),
                   (SELECT count(*) > 0 FROM pg_settings WHERE pending_restart)
            """;
    private static final String STANDBYS_SQL = """
            SELECT application_name, state, flush_lsn::text, replay_lsn::text, sync_state
              FROM pg_stat_replication ORDER BY application_name
            """;

    private final Jdbc jdbc;
    private final String id;
    private volatile long lastReceivedTimeline;
    private final String host;
    private final int port;

    private final java.util.function.Supplier<java.util.Optional<PgControl.ControlData>> stoppedState;

    /**
     * @param host         where the server is reached: node.host, the address peers use too
     * @param stoppedState what pg_controldata says, asked only when the server does not answer
     */
    public LocalProbe(Jdbc jdbc, String id, String host, int port,
                      java.util.function.Supplier<java.util.Optional<PgControl.ControlData>> stoppedState) {
        this.stoppedState = stoppedState;
        this.jdbc = jdbc;
        this.id = id;
        this.host = host;
        this.port = port;
    }

    /** A report of the server, or of its absence (running false, with the error). Never throws. */
    public MemberReport probe(Duration timeout, String sentinelState) {
        try {
            return jdbc.call(host, port, timeout, c -> {
                try (Statement s = c.createStatement()) {
                    boolean recovery;
                    String flush;
                    String receive;
                    String replay;
                    long timeline;
                    String receiverStatus;
                    String senderHost;
                    int senderPort;
                    String configured;
                    boolean pendingRestart;
                    try (ResultSet rs = s.executeQuery(STATUS_SQL)) {
                        rs.next();
                        recovery = rs.getBoolean(1);
                        flush = rs.getString(2);
                        receive = rs.getString(3);
                        replay = rs.getString(4);
                        long primaryTimeline = rs.getLong(5);
                        receiverStatus = rs.getString(6);
                        long receivedTimeline = rs.getLong(7);
                        senderHost = rs.getString(8);
                        senderPort = rs.getInt(9);
                        long checkpointTimeline = rs.getLong(10);
                        configured = recovery ? upstreamOf(rs.getString(11)) : "";
                        pendingRestart = rs.getBoolean(12);
                        // a replica that does not stream shows no received timeline, and its checkpoint's
                        // lags behind a timeline switch: remember the newest it streamed on
                        if (recovery && receivedTimeline > 0) {
                            lastReceivedTimeline = Math.max(lastReceivedTimeline, receivedTimeline);
                        }
                        timeline = !recovery ? primaryTimeline
                                : Math.max(checkpointTimeline, receivedTimeline > 0 ? receivedTimeline : lastReceivedTimeline);
                    }
                    List<Standby> standbys = new ArrayList<>();
                    if (!recovery) {
                        try (ResultSet rs = s.executeQuery(STANDBYS_SQL)) {
                            while (rs.next()) {
                                standbys.add(new Standby(nonNull(rs.getString(1)), nonNull(rs.getString(2)),
                                        lsn(rs.getString(3)), lsn(rs.getString(4)), nonNull(rs.getString(5))));
                            }
                        }
                    }
                    return new MemberReport(id, Instant.now(), true, recovery ? Role.REPLICA : Role.PRIMARY, timeline,
                            lsn(flush), lsn(receive), lsn(replay), receiverStatus, senderHost, senderPort, standbys,
                            sentinelState, "", configured, pendingRestart);
                }
            });
        } catch (SQLException e) {
            return down(sentinelState, e);
        }
    }

    private MemberReport down(String sentinelState, SQLException e) {
        // a cleanly stopped primary tells where its WAL ends: its shutdown checkpoint
        // (a planned switchover waits until the candidate received it)
        // asked only of a fenced server (a switchover waits for it): not a process spawn every cycle
        var control = MemberReport.FENCED.equals(sentinelState) ? stoppedState.get() : java.util.Optional.<PgControl.ControlData>empty();
        if (control.isPresent() && control.get().cleanlyShutDown()) {
            return new MemberReport(id, Instant.now(), false, Role.UNKNOWN, control.get().timeline(),
                    control.get().checkpointLsn(), -1, -1, "", "", 0, List.of(), sentinelState,
                    "stopped cleanly (shutdown checkpoint at " + Lsn.format(control.get().checkpointLsn()) + ")");
        }
        return new MemberReport(id, Instant.now(), false, Role.UNKNOWN, 0, -1, -1, -1, "", "", 0, List.of(),
                sentinelState, describe(e));
    }

    /** A short, secret-free description of a JDBC error. */
    public static String describe(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String first = message.lines().findFirst().orElse(message);
        // PgJDBC never puts the password in a message; a connection string might be quoted, so cut at 200
        return (e.getSQLState() == null ? "" : e.getSQLState() + " ") + (first.length() > 200 ? first.substring(0, 200) : first);
    }

    /** "host:port" of a libpq connection string (key=value form), or "" (no password is kept). */
    static String upstreamOf(String conninfo) {
        if (conninfo == null || conninfo.isBlank()) {
            return "";
        }
        String host = "";
        String port = "5432";
        for (String part : conninfo.trim().split("\\s+")) {
            int eq = part.indexOf('=');
            if (eq > 0) {
                String key = part.substring(0, eq);
                String value = part.substring(eq + 1).replace("'", "");
                if (key.equals("host") || key.equals("hostaddr")) {
                    host = value;
                } else if (key.equals("port")) {
                    port = value;
                }
            }
        }
        return host.isEmpty() ? "" : host + ":" + port;
    }

    private static long lsn(String text) {
        return text == null ? -1 : Lsn.parse(text);
    }

    private static String nonNull(String s) {
        return s == null ? "" : s;
    }
}
