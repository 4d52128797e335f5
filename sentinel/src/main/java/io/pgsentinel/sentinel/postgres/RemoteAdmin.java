package io.pgsentinel.sentinel.postgres;

import io.pgsentinel.sentinel.model.Lsn;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

/**
 * What one sentinel does to another node's server over SQL: promote it, checkpoint it, make
 * sure a replication slot exists on it. Every call is bounded by {@link Jdbc}'s deadlines.
 */
public final class RemoteAdmin {
    private final Jdbc jdbc;

    public RemoteAdmin(Jdbc jdbc) {
        this.jdbc = jdbc;
    }

    /** The outcome of a promotion: the new timeline and where it forked off the old one. */
    public record Promoted(long timeline, long forkLsn) {
    }

    public boolean inRecovery(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
                rs.next();
                return rs.getBoolean(1);
            }
        });
    }

    /**
     * {@code pg_promote(true, ...)} (skipped if the server is already out of recovery, as after
     * an interrupted attempt), then a committed transaction with a transaction id to check the
     * server accepts writes, then the new timeline and its fork point from the history file.
     */
    public Promoted promote(String host, int port, Duration timeout) throws SQLException {
        int seconds = (int) Math.max(1, timeout.toSeconds());
        if (inRecovery(host, port, Duration.ofSeconds(5))) {
            Boolean promoted = jdbc.call(host, port, timeout.plusSeconds(1), c -> {
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT pg_promote(true, " + seconds + ")")) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            });
            if (!Boolean.TRUE.equals(promoted)) {
                throw new SQLException(host + ":" + port + ": pg_promote did not finish within " + seconds + " s");
            }
        }
        return jdbc.call(host, port, Duration.ofSeconds(5), c -> {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_current_xact_id()");
                c.commit();
                c.setAutoCommit(true);
                long timeline;
                try (ResultSet rs = s.executeQuery(
                        "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int")) {
                    rs.next();
                    timeline = rs.getLong(1);
                }
                long fork = -1;
                if (timeline > 1) {
                    String file = String.format("pg_wal/%08X.history", timeline);
                    try (ResultSet rs = s.executeQuery("SELECT pg_read_file('" + file + "')")) {
                        rs.next();
                        fork = TimelineHistory.parse(rs.getString(1)).last().map(TimelineHistory.Switch::lsn).orElse(-1L);
                    } catch (SQLException e) {
                        fork = -1; // no right to read it: the fork point stays unknown
                    }
                }
                return new Promoted(timeline, fork);
            }
        });
    }

    /** The WAL position a replica has received (and flushed), or -1 once it is out of recovery. */
    public long receivedLsn(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_last_wal_receive_lsn()::text")) {
                rs.next();
                String v = rs.getString(1);
                return v == null ? -1L : Lsn.parse(v);
            }
        });
    }

    /**
     * Where a standby stands: the most advanced WAL position it holds, max(received and flushed,
     * replayed) (the received position is NULL until streaming starts after a restart, then the
     * start of the segment it asks for; its replay shows what its own WAL gave it), or -1 when it is
     * out of recovery or holds nothing yet.
     */
    public long standbyPosition(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery(), "
                    + "pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text")) {
                rs.next();
                if (!rs.getBoolean(1)) {
                    return -1L;
                }
                String receive = rs.getString(2);
                String replay = rs.getString(3);
                return Math.max(receive == null ? -1L : Lsn.parse(receive), replay == null ? -1L : Lsn.parse(replay));
            }
        });
    }

    /**
     * What a primary enforces: its {@code synchronous_standby_names} (asked in a new session, so
     * after any reload), each walsender's {@code sync_state} and flushed position, and the
     * primary's own flushed position, read after them.
     */
    public record SyncState(String setting, Map<String, String> syncStates, Map<String, Long> flushed, long primaryFlush) {
    }

    public SyncState syncState(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                String setting;
                try (ResultSet rs = s.executeQuery("SHOW synchronous_standby_names")) {
                    rs.next();
                    setting = rs.getString(1);
                }
                Map<String, String> states = new java.util.TreeMap<>();
                Map<String, Long> flushed = new java.util.TreeMap<>();
                try (ResultSet rs = s.executeQuery("SELECT application_name, sync_state, flush_lsn::text "
                        + "FROM pg_stat_replication WHERE state = 'streaming'")) {
                    while (rs.next()) {
                        states.put(rs.getString(1), rs.getString(2));
                        String f = rs.getString(3);
                        flushed.put(rs.getString(1), f == null ? -1L : Lsn.parse(f));
                    }
                }
                try (ResultSet rs = s.executeQuery("SELECT pg_current_wal_flush_lsn()::text")) {
                    rs.next();
                    return new SyncState(setting, states, flushed, Lsn.parse(rs.getString(1)));
                }
            }
        });
    }

    /**
     * Makes sure that a standby about to be promoted does not pick a timeline that was used
     * before: PostgreSQL takes one more than the newest timeline whose history file it finds (with
     * no gap), so a standby that never received the history of timeline 17 (its primary was
     * promoted to it, then died) would be promoted to timeline 17 a second time, and a server of the
     * other timeline 17 could later follow it as if their WAL were one. Writes a history file for
     * every timeline up to {@code usedUpTo} that the standby lacks, from its own history (the
     * switch point is only a placeholder: only the file's existence decides the next timeline).
     *
     * @return the timelines reserved this way (empty when none was missing)
     */
    public java.util.List<Long> reserveTimelines(String host, int port, long usedUpTo, Duration timeout)
            throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            java.util.List<Long> reserved = new java.util.ArrayList<>();
            try (Statement s = c.createStatement()) {
                String dataDirectory;
                long current;
                String position;
                try (ResultSet rs = s.executeQuery("SELECT current_setting('data_directory'), greatest("
                        + "(SELECT timeline_id FROM pg_control_checkpoint()), coalesce((SELECT received_tli FROM "
                        + "pg_stat_wal_receiver), 0)), coalesce(pg_last_wal_replay_lsn(), '0/0')::text, pg_is_in_recovery()")) {
                    rs.next();
                    if (!rs.getBoolean(4)) {
                        return reserved; // promoted already: its timeline is chosen
                    }
                    dataDirectory = rs.getString(1);
                    current = rs.getLong(2);
                    position = rs.getString(3);
                }
                String ownHistory = "";
                if (current > 1) {
                    try (ResultSet rs = s.executeQuery("SELECT pg_read_file('pg_wal/" + String.format("%08X", current)
                            + ".history', 0, 1048576, true)")) {
                        rs.next();
                        ownHistory = rs.getString(1) == null ? "" : rs.getString(1);
                    }
                }
                StringBuilder rows = new StringBuilder();
                for (TimelineHistory.Switch sw : TimelineHistory.parse(ownHistory).switches()) {
                    rows.append("(").append(sw.parent()).append(", '").append(Lsn.format(sw.lsn()))
                            .append("', 'history of this standby'), ");
                }
                for (long t = current + 1; t <= usedUpTo; t++) {
                    String name = String.format("%08X.history", t);
                    try (ResultSet rs = s.executeQuery("SELECT (pg_stat_file('pg_wal/" + name + "', true)).size")) {
                        rs.next();
                        if (rs.getObject(1) != null) {
                            continue; // it knows this timeline already
                        }
                    }
                    s.execute("COPY (VALUES " + rows + "(" + current + ", " + PgControl.literal(position)
                            + ", 'timeline " + t + " was used by another promotion: not to be used again')) TO "
                            + PgControl.literal(dataDirectory + "/pg_wal/" + name));
                    reserved.add(t);
                }
            }
            return reserved;
        });
    }

    /** {@code synchronous_standby_names} of a server. */
    public String syncStandbyNames(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW synchronous_standby_names")) {
                rs.next();
                return rs.getString(1);
            }
        });
    }

    /** Sets {@code synchronous_standby_names} with ALTER SYSTEM and reloads. */
    public void setSyncStandbyNames(String host, int port, String value, Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("ALTER SYSTEM SET synchronous_standby_names = " + PgControl.literal(value));
                s.execute("SELECT pg_reload_conf()");
            }
            return null;
        });
    }

    /** pg_reload_conf() on the server: its configuration files read again. */
    public void reload(String host, int port, Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_reload_conf()");
            }
            return null;
        });
    }

    public void checkpoint(String host, int port, Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CHECKPOINT");
            }
            return null;
        });
    }

    /**
     * Creates the replication role if it does not exist (a new cluster's, {@code bootstrap.method:
     * initdb}). The password never appears in a log or an exception of ours.
     */
    public void ensureReplicationRole(String host, int port, String role, java.util.Optional<String> password,
                                      Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
                ps.setString(1, role);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        return null;
                    }
                }
            }
            try (Statement s = c.createStatement()) {
                s.execute("CREATE ROLE " + quoteIdentifier(role) + " WITH REPLICATION LOGIN"
                        + password.map(p -> " PASSWORD " + PgControl.literal(p)).orElse(""));
            } catch (SQLException e) {
                throw new SQLException("could not create the replication role " + role + " (SQL state "
                        + e.getSQLState() + ")", e.getSQLState());
            }
            return null;
        });
    }

    private static String quoteIdentifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    /** Drops the inactive slot {@code slot} on the server; false when there is no such inactive slot. */
    public boolean dropSlot(String host, int port, String slot, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    + "WHERE slot_name = ? AND NOT active")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /** Creates the physical slot {@code slot} on the server if it does not exist yet. */
    public void ensureSlot(String host, int port, String slot, Duration timeout) throws SQLException {
        jdbc.call(host, port, timeout, c -> {
            try (Statement s = c.createStatement()) {
                s.execute("SELECT pg_create_physical_replication_slot(" + PgControl.literal(slot) + ", true) "
                        + "WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                        + PgControl.literal(slot) + ")");
            }
            return null;
        });
    }

    /**
     * A physical slot as the server holds it.
     *
     * @param restartLsn where it reserves WAL from, -1 when it reserves none yet
     * @param active     a walsender streams through it now
     * @param walStatus  pg_replication_slots.wal_status: reserved, extended, unreserved or lost ("" when none)
     */
    public record Slot(long restartLsn, boolean active, String walStatus) {
        /** The WAL it held was removed (max_slot_wal_keep_size): a standby using it cannot stream again. */
        public boolean lost() {
            return walStatus.equals("lost");
        }
    }

    /** The server's physical slots by name. */
    public Map<String, Slot> physicalSlots(String host, int port, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            Map<String, Slot> slots = new java.util.TreeMap<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT slot_name, restart_lsn::text, active, coalesce(wal_status, '') "
                         + "FROM pg_replication_slots WHERE slot_type = 'physical'")) {
                while (rs.next()) {
                    String lsn = rs.getString(2);
                    slots.put(rs.getString(1), new Slot(lsn == null ? -1 : Lsn.parse(lsn), rs.getBoolean(3), rs.getString(4)));
                }
            }
            return slots;
        });
    }

    /**
     * Whether the server has lost the WAL a standby needs from {@code lsn}: the standby's slot
     * {@code slot} there says {@code lost}, or the oldest segment in pg_wal is past the one
     * holding {@code lsn}. False when it cannot tell (no segment listed).
     */
    public boolean walGoneFrom(String host, int port, String slot, long lsn, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT (SELECT wal_status FROM pg_replication_slots WHERE slot_name = ?), "
                    // by segment, whatever the timeline: an older timeline's leftover must not look oldest
                    + "(SELECT min(substr(name, 9)) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'), "
                    + "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size')")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return false;
                    }
                    if ("lost".equals(rs.getString(1))) {
                        return true;
                    }
                    String oldest = rs.getString(2);
                    long segmentSize = rs.getLong(3);
                    return oldest != null && segmentSize > 0 && lsn >= 0 && lsn / segmentSize < segmentNumber(oldest, segmentSize);
                }
            }
        });
    }

    /** The segment number of a WAL file name without its timeline (log and segment, 16 hex digits). */
    static long segmentNumber(String logAndSegment, long segmentSize) {
        long log = Long.parseLong(logAndSegment.substring(0, 8), 16);
        long seg = Long.parseLong(logAndSegment.substring(8, 16), 16);
        return log * (0x1_0000_0000L / segmentSize) + seg;
    }

    /** A setting of the server as SHOW gives it. */
    public String show(String host, int port, String setting, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT current_setting(?)")) {
                ps.setString(1, setting);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? rs.getString(1) : "";
                }
            }
        });
    }

    /**
     * Moves the slot {@code slot} forward to {@code lsn} (on a standby, at most to what it has
     * replayed); returns its restart_lsn after.
     */
    public long advanceSlot(String host, int port, String slot, long lsn, Duration timeout) throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT end_lsn::text FROM pg_replication_slot_advance(?, ?::pg_lsn)")) {
                ps.setString(1, slot);
                ps.setString(2, Lsn.format(lsn));
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() && rs.getString(1) != null ? Lsn.parse(rs.getString(1)) : -1;
                }
            }
        });
    }

    /** How far a clone has got: bytes streamed and the estimated total (-1 when not estimated). */
    public record CloneProgress(long streamed, long total) {
        /** "43% (123.4 MB of 286.0 MB)", or "123.4 MB" without an estimate. */
        public String describe() {
            if (total <= 0) {
                return io.pgsentinel.sentinel.model.Lsn.bytes(streamed) + " copied";
            }
            return Math.min(100, streamed * 100 / total) + "% (" + io.pgsentinel.sentinel.model.Lsn.bytes(streamed)
                    + " of " + io.pgsentinel.sentinel.model.Lsn.bytes(total) + ")";
        }
    }

    /**
     * The progress of the base backup that {@code applicationName} takes from this server
     * (pg_stat_progress_basebackup), empty when none runs or it is not visible to this user.
     */
    public java.util.Optional<CloneProgress> cloneProgress(String host, int port, String applicationName, Duration timeout)
            throws SQLException {
        return jdbc.call(host, port, timeout, c -> {
            try (var ps = c.prepareStatement("SELECT p.backup_streamed, coalesce(p.backup_total, -1) "
                    + "FROM pg_stat_progress_basebackup p JOIN pg_stat_activity a ON a.pid = p.pid "
                    + "WHERE a.application_name = ? AND p.backup_streamed IS NOT NULL")) {
                ps.setString(1, applicationName);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? java.util.Optional.of(new CloneProgress(rs.getLong(1), rs.getLong(2)))
                            : java.util.Optional.<CloneProgress>empty();
                }
            }
        });
    }
}
