package io.pgsentinel.sentinel.postgres;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** Whether a peer's PostgreSQL answers: connect and run a trivial query, within the check timeout. */
public final class PeerProbe {
    private final Jdbc jdbc;

    public PeerProbe(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    public boolean reachable(String host, int port, Duration timeout) {
        try {
            return jdbc.call(host, port, timeout, c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    return rs.next();
                }
            });
        } catch (SQLException e) {
            return false;
        }
    }
}
