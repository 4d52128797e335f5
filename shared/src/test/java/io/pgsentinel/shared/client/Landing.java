package io.pgsentinel.shared.client;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Where a connection landed: its server's port, and whether that server is in recovery. */
record Landing(int port, boolean inRecovery) {

    static Landing of(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT inet_server_port(), pg_is_in_recovery()")) {
            rs.next();
            return new Landing(rs.getInt(1), rs.getBoolean(2));
        }
    }
}
