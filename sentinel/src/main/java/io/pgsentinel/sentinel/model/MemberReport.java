package io.pgsentinel.sentinel.model;

import java.time.Instant;
import java.util.List;

/**
 * What a sentinel saw of its own PostgreSQL server, written to {@code members/<id>}
 * (ephemeral: it disappears with the sentinel's session).
 *
 * @param id             the node id
 * @param at             wall-clock time of the probe, for people (never used for timeouts)
 * @param running        the server answered the probe
 * @param role           primary, replica, or unknown when not running
 * @param timeline       the server's timeline, 0 when unknown
 * @param flushLsn       primary: pg_current_wal_flush_lsn(); -1 otherwise
 * @param receiveLsn     replica: pg_last_wal_receive_lsn() (received and flushed); -1 otherwise
 * @param replayLsn      replica: pg_last_wal_replay_lsn(); -1 otherwise
 * @param receiverStatus replica: the WAL receiver's status (streaming...), "" when none
 * @param upstreamHost   replica: the host it streams from, "" when none
 * @param upstreamPort   replica: the port it streams from, 0 when none
 * @param standbys       primary: its replication connections
 * @param state          what the sentinel is doing with its server: "ok", "fenced", "rejoining",
 *                       "starting", "stopped"...
 * @param error          the probe's error, without secrets, "" when none
 * @param configuredUpstream replica: host:port of its primary_conninfo, "" when none
 * @param pendingRestart     a changed setting waits for a restart (pg_settings.pending_restart)
 */
public record MemberReport(String id, Instant at, boolean running, Role role, long timeline, long flushLsn,
                           long receiveLsn, long replayLsn, String receiverStatus, String upstreamHost,
                           int upstreamPort, List<Standby> standbys, String state, String error,
                           String configuredUpstream, boolean pendingRestart) {
    /** {@link #state()}: the sentinel stopped its server and keeps it stopped (a fence holds). */
    public static final String FENCED = "fenced";
    /** {@link #state()}: the sentinel is starting its server (pg_ctl start runs: a crash recovery may take a while). */
    public static final String STARTING = "starting";
    /** {@link #state()}: the sentinel rewinds or clones its server ("rejoining", or "rejoining: cloning 43% (...)"). */
    public static final String REJOINING = "rejoining";

    /** Whether the sentinel reports its server fenced or being started: a restart in place under way. */
    public boolean fencedOrStarting() {
        return FENCED.equals(state) || STARTING.equals(state);
    }

    public MemberReport(String id, Instant at, boolean running, Role role, long timeline, long flushLsn,
                        long receiveLsn, long replayLsn, String receiverStatus, String upstreamHost, int upstreamPort,
                        List<Standby> standbys, String state, String error, String configuredUpstream) {
        this(id, at, running, role, timeline, flushLsn, receiveLsn, replayLsn, receiverStatus, upstreamHost,
                upstreamPort, standbys, state, error, configuredUpstream, false);
    }

    public MemberReport(String id, Instant at, boolean running, Role role, long timeline, long flushLsn,
                        long receiveLsn, long replayLsn, String receiverStatus, String upstreamHost, int upstreamPort,
                        List<Standby> standbys, String state, String error) {
        this(id, at, running, role, timeline, flushLsn, receiveLsn, replayLsn, receiverStatus, upstreamHost,
                upstreamPort, standbys, state, error, "");
    }

    public MemberReport {
        configuredUpstream = configuredUpstream == null ? "" : configuredUpstream;
        standbys = List.copyOf(standbys);
        receiverStatus = receiverStatus == null ? "" : receiverStatus;
        upstreamHost = upstreamHost == null ? "" : upstreamHost;
        state = state == null ? "ok" : state;
        error = error == null ? "" : error;
    }

    /** The most advanced WAL position this server holds durably: flush on a primary, receive on a replica. */
    public long position() {
        return role == Role.PRIMARY ? flushLsn : Math.max(receiveLsn, replayLsn);
    }

    public boolean isStreaming() {
        return role == Role.REPLICA && "streaming".equals(receiverStatus);
    }

    /** Whether the reports say the same thing, probe time aside: decides whether to rewrite the node. */
    public boolean sameStateAs(MemberReport o) {
        return o != null && running == o.running && role == o.role && timeline == o.timeline
                && receiverStatus.equals(o.receiverStatus) && upstreamHost.equals(o.upstreamHost)
                && upstreamPort == o.upstreamPort && state.equals(o.state) && error.equals(o.error)
                && configuredUpstream.equals(o.configuredUpstream) && pendingRestart == o.pendingRestart
                && standbys.stream().map(s -> s.name() + s.state() + s.syncState()).toList()
                .equals(o.standbys.stream().map(s -> s.name() + s.state() + s.syncState()).toList());
    }
}
