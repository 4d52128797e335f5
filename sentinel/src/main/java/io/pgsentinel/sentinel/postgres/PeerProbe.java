package io.pgsentinel.sentinel.postgres;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * Whether a peer's PostgreSQL answers, and whether it accepts writes: connect and ask whether it
 * is in recovery (and its timeline when it is not), within the check timeout. The leader learns
 * from its own probe that a server accepts writes even when no sentinel reports it (one promoted
 * by a leader that died before publishing).
 */
public final class PeerProbe {
    private static final String SQL = "SELECT pg_is_in_recovery(), CASE WHEN pg_is_in_recovery() THEN 0 "
            + "ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END";

    /** How a probe ended: the server answered (even with an error), could not be reached, or said nothing in time. */
    public enum Outcome { ANSWERED, UNREACHABLE, SILENT }

    /** What one probe found: how it ended, and whether the server is out of recovery on {@code timeline}. */
    public record Seen(Outcome outcome, boolean writable, long timeline) {
        public static final Seen DOWN = new Seen(Outcome.UNREACHABLE, false, 0);
        public static final Seen SILENT = new Seen(Outcome.SILENT, false, 0);

        public boolean up() {
            return outcome == Outcome.ANSWERED;
        }
    }

    private final Jdbc jdbc;

    public PeerProbe(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Probes {@code host:port} within {@code timeout}. A server that answers with an error is up:
     * too many connections (53300), starting up or shutting down (57P03), a refused login... it is
     * there. Down is a connection that does not get through (SQLSTATE class 08) or no answer.
     */
    public Seen probe(String host, int port, Duration timeout) {
        try {
            return jdbc.call(host, port, timeout, c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(SQL)) {
                    rs.next();
                    boolean recovery = rs.getBoolean(1);
                    return new Seen(Outcome.ANSWERED, !recovery, recovery ? 0 : rs.getLong(2));
                }
            });
        } catch (Jdbc.DeadlineException e) {
            return Seen.SILENT;
        } catch (SQLException e) {
            String state = e.getSQLState();
            return state == null || state.startsWith("08") ? Seen.DOWN : new Seen(Outcome.ANSWERED, false, 0);
        }
    }
}
