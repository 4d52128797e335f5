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

    /** What one probe found: up, and out of recovery on {@code timeline} (0 when in recovery or down). */
    public record Seen(boolean up, boolean writable, long timeline) {
        public static final Seen DOWN = new Seen(false, false, 0);
    }

    private final Jdbc jdbc;

    public PeerProbe(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    public Seen probe(String host, int port, Duration timeout) {
        try {
            return jdbc.call(host, port, timeout, c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(SQL)) {
                    rs.next();
                    boolean recovery = rs.getBoolean(1);
                    return new Seen(true, !recovery, recovery ? 0 : rs.getLong(2));
                }
            });
        } catch (SQLException e) {
            return Seen.DOWN;
        }
    }
}
